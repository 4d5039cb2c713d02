"""The Django admin for users and their sign-in sessions. (The task queue's own admin, from
django-tasks-db, lists queued, running, failed and finished tasks with their errors.)"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.client import ClientInfo
from accounts.flows.deletion import users_erase, users_restore
from accounts.models import AuthSession, RevokedReason, User
from accounts.signals import EventType


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class AuthSessionInline(admin.TabularInline):
    model = AuthSession
    extra = 0
    can_delete = False
    fields = ("created_at", "last_used_at", "expires_at", "revoked_at", "client_ip", "user_agent")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuthSession]:
        return super().get_queryset(request).select_related("user")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "email",
        "email_verified",
        "is_active",
        "is_staff",
        "created_at",
        "last_login",
        "scheduled_for_deletion",
    )
    list_filter = (
        "email_verified",
        "is_active",
        "is_staff",
        "is_superuser",
        "created_at",
        ("delete_after", admin.EmptyFieldListFilter),
    )
    search_fields = ("email",)
    ordering = ("-created_at",)
    readonly_fields = ("id", "created_at", "last_login", "delete_after")
    fieldsets = (
        (None, {"fields": ("id", "email", "email_verified", "password")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("created_at", "last_login", "delete_after")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = (AuthSessionInline,)
    actions = ("erase_now", "restore")

    @admin.display(description="Scheduled for deletion", ordering="delete_after")
    def scheduled_for_deletion(self, user: User) -> str:
        return f"after {user.delete_after:%Y-%m-%d %H:%M}" if user.delete_after else ""

    @admin.action(description="Erase now the selected accounts scheduled for deletion")
    def erase_now(self, request: HttpRequest, queryset: "QuerySet[User]") -> None:
        # As `manage.py purge` does after the grace (accounts.flows.deletion); any other account
        # selected is left alone.
        erased = users_erase(user_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Erased {erased} account(s).", messages.SUCCESS)

    @admin.action(description="Restore the selected accounts scheduled for deletion")
    def restore(self, request: HttpRequest, queryset: "QuerySet[User]") -> None:
        restored = users_restore(
            user_ids=list(queryset.values_list("pk", flat=True)),
            client=ClientInfo.from_request(request),
            staff_id=str(getattr(request.user, "pk", "")),
        )
        self.message_user(request, f"Restored {restored} account(s).", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin's change form runs in a transaction (ModelAdmin.changeform_view); the
        # atomic block here makes that a rule of this method rather than an assumption.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            ClientInfo.from_request(request).event(
                EventType.ADMIN_ACTION,
                user_id=obj.pk,
                detail={
                    "action": "change" if change else "add",
                    # Field names only: never values (the password field is a hash anyway).
                    "fields": sorted(form.changed_data),
                    "staff_id": str(getattr(request.user, "pk", "")),
                },
            )


@admin.action(description="Revoke the selected sessions")
def revoke_sessions(
    modeladmin: "admin.ModelAdmin[AuthSession]",
    request: HttpRequest,
    queryset: "QuerySet[AuthSession]",
) -> None:
    client = ClientInfo.from_request(request)
    with transaction.atomic():
        live = AuthSession.objects.filter(
            pk__in=list(queryset.values_list("pk", flat=True)), revoked_at__isnull=True
        ).select_for_update()
        by_user: dict[Any, int] = {}
        for user_id in live.values_list("user_id", flat=True):
            by_user[user_id] = by_user.get(user_id, 0) + 1
        count = live.revoke(reason=RevokedReason.ADMIN)
        for user_id, revoked in by_user.items():
            client.event(
                EventType.ADMIN_ACTION,
                user_id=user_id,
                detail={
                    "action": "revoke_sessions",
                    "revoked": revoked,
                    "staff_id": str(getattr(request.user, "pk", "")),
                },
            )
    modeladmin.message_user(request, f"Revoked {count} session(s).", messages.SUCCESS)


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "last_used_at", "expires_at", "revoked_at", "client_ip")
    list_filter = ("revoked_at", "created_at", "expires_at", "revoked_reason")
    search_fields = ("user__email", "client_ip")
    list_select_related = ("user",)
    readonly_fields = (
        "id",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
        "client_ip",
        "user_agent",
    )
    actions = (revoke_sessions,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
