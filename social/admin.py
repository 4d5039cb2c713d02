"""Linked identities in the admin, read-only: staff see who signs in with what, and may remove
a link (the user then signs in another way)."""

from django.contrib import admin
from django.http import HttpRequest

from social.models import Identity


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "email", "created_at", "last_used_at")
    list_filter = ("provider",)
    search_fields = ("user__email", "email", "subject")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "provider",
        "issuer",
        "subject",
        "email",
        "created_at",
        "last_used_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
