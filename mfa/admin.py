"""The user's admin page, extended: whether TOTP is on, and a reset for staff. Secrets and
recovery codes are never shown (their models are not registered)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.client import ClientInfo
from accounts.models import User
from mfa.flows.enrolment import mfa_reset_by_staff
from mfa.models import TOTPDevice


@admin.action(description="Reset two-factor authentication of the selected users")
def mfa_reset(
    modeladmin: "admin.ModelAdmin[User]", request: HttpRequest, queryset: "QuerySet[User]"
) -> None:
    client = ClientInfo.from_request(request)
    reset = sum(
        mfa_reset_by_staff(user_id=user_id, staff_id=request.user.pk, client=client)
        for user_id in queryset.values_list("pk", flat=True)
    )
    modeladmin.message_user(
        request, f"Reset two-factor authentication of {reset} user(s).", messages.SUCCESS
    )


class UserAdmin(AccountsUserAdmin):
    # mypy infers the base's tuples at their exact length; longer ones are just as valid here.
    list_display = (*AccountsUserAdmin.list_display, "two_factor")  # type: ignore[assignment]
    readonly_fields = (*AccountsUserAdmin.readonly_fields, "two_factor")  # type: ignore[assignment]
    fieldsets = (  # type: ignore[assignment]
        *AccountsUserAdmin.fieldsets,
        ("Two-factor authentication", {"fields": ("two_factor",)}),
    )
    actions = (*AccountsUserAdmin.actions, mfa_reset)  # type: ignore[assignment]

    def get_queryset(self, request: HttpRequest) -> "QuerySet[User]":
        return super().get_queryset(request).select_related("totp_device")

    @admin.display(description="Two-factor")
    def two_factor(self, user: User) -> str:
        try:
            device = user.totp_device
        except TOTPDevice.DoesNotExist:
            return "Off"
        if device.confirmed_at is None:
            return "Off (setup pending)"
        return f"TOTP on since {device.confirmed_at:%Y-%m-%d %H:%M}"


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
