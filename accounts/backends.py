"""The authentication backend behind the admin login: Django's ModelBackend with the API's
password rules (failure budgets per email, bounded hashing)."""

from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.client import ClientInfo
from accounts.exceptions import Throttled
from accounts.flows.password import password_guess
from accounts.hashing import password_verify, password_verify_dummy, pooled_connection_release
from accounts.managers import UserManager
from accounts.models import User
from accounts.signals import EventType


class EmailBackend(ModelBackend):
    """Logs in by email in any letter case. The password check spends the same failure budgets
    as the API's sign-in (so an email locked on the API is locked here too) and runs on the
    bounded hashing pool (HasherOverloaded becomes a 503 in AdminLoginThrottleMiddleware)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        username = username or kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        email = UserManager.normalize_email(username)
        user = User._default_manager.filter(email=email).first()
        pooled_connection_release()

        async def verify() -> bool:
            # Counting the attempt borrowed a connection on this thread: hand it back before
            # the hash (and any wait for a hashing slot), whatever handler serves.
            await sync_to_async(pooled_connection_release)()
            if user is None or not self.user_can_authenticate(user):
                await password_verify_dummy(password)  # same time as a real check
                return False
            return await password_verify(password, user.password)

        client = ClientInfo.from_request(request)
        try:
            verified = async_to_sync(password_guess)(email=email, ip=client.ip, verify=verify)
        except Throttled:
            raise PermissionDenied from None  # no other backend may try this password
        if not verified and user is not None:
            client.event_alone(
                EventType.SIGNIN_FAILED, user_id=user.pk, detail={"during": "admin_login"}
            )
        return user if verified else None
