"""Staff see each user's passkeys (never a key or a credential id) and may remove one; each
removal, one by one or in bulk, records an `admin_action` event."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.client import ClientInfo
from passkeys.flows.registration import passkey_remove_by_staff
from passkeys.models import Passkey


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at", "last_used_at", "backed_up")
    list_filter = ("backed_up", "backup_eligible", "created_at")
    search_fields = ("user__email", "name")
    list_select_related = ("user",)
    fields = ("user", "name", "created_at", "last_used_at", "backup_eligible", "backed_up")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Passkey) -> None:
        passkey_remove_by_staff(
            passkey=obj, staff_id=request.user.pk, client=ClientInfo.from_request(request)
        )

    def delete_queryset(self, request: HttpRequest, queryset: "QuerySet[Passkey]") -> None:
        client = ClientInfo.from_request(request)
        for passkey in queryset:
            passkey_remove_by_staff(passkey=passkey, staff_id=request.user.pk, client=client)
