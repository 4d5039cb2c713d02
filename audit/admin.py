"""The admin's read-only view of security events."""

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuthEvent


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    list_display = ("at", "type", "user", "ip", "session_id")
    list_filter = ("type", "at")
    search_fields = ("user__email", "ip")
    list_select_related = ("user",)
    date_hierarchy = "at"
    readonly_fields = ("at", "type", "user", "ip", "user_agent", "session_id", "detail")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
