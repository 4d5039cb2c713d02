"""Authentication for ninja routes, and the session it authenticated.

- `session_auth`: a live session's access token, from the `Authorization: Bearer` header or,
  when no header is sent, from the `__Host-access` cookie (under the CSRF rule of
  accounts.transport). `request.auth` is then the AuthSession, and `request_chain_id` the
  refresh-token chain the access token was issued on.
- `fresh_session_auth`: the same, and the access token's chain must be fresh
  (RefreshTokenChain.is_fresh_at): its sign-in or a re-authentication on it within
  REAUTH_MAX_AGE. Dangerous actions use it; its refusal is 401 with
  `WWW-Authenticate: Bearer error="insufficient_user_authentication"` (RFC 9470). Only these
  routes read the chain: every other request costs the session+user lookup alone.
- `verified_session_auth`, `fresh_verified_session_auth`: as session_auth and
  fresh_session_auth, and the user's address must be verified (User.credential_addition_ensure:
  403 `{"detail":"Verify your email address first"}`). The routes that add a credential besides
  the password (TOTP, a passkey, a linked identity) use them.
- `signout_auth`: as session_auth, or the `__Host-refresh` cookie alone (a browser whose
  access cookie has expired can still sign out).
"""

import uuid

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from accounts import selectors
from accounts.exceptions import AccessTokenRefused, ReauthenticationRequired
from accounts.flows.sessions import auth_session_touch
from accounts.models import AuthSession
from accounts.tokens import InvalidAccessToken, access_token_decode
from accounts.transport import ACCESS_COOKIE, REFRESH_COOKIE, cookie_of
from toolkit.request_context import request_user_set


async def access_token_authenticate(
    request: HttpRequest, token: str, *, fresh: bool, verified: bool = False
) -> AuthSession:
    """The live session an access token names, its user active (and the session fresh, with
    `fresh`; its user's address verified, with `verified`). A valid signature is not enough:
    sign-out and deactivation take effect on the very next request."""
    try:
        claims = access_token_decode(token)
    except InvalidAccessToken:
        raise AccessTokenRefused from None
    now = timezone.now()
    session = await selectors.auth_session_get_live(
        session_id=claims.session_id, user_id=claims.user_id, now=now
    )
    if session is None:
        raise AccessTokenRefused
    request_user_set(claims.user_id)
    if fresh and not await selectors.refresh_token_chain_is_fresh(
        chain_id=claims.chain_id, session_id=session.pk, now=now
    ):
        raise ReauthenticationRequired
    if verified:
        # The session and its user come from one row read: a session still live when the
        # address was proven was the owner's (proving an unverified address revokes the rest).
        session.user.credential_addition_ensure()
    await auth_session_touch(session=session, now=now)
    request.auth_chain_id = claims.chain_id  # type: ignore[attr-defined]  # request_chain_id
    return session


class BearerAuth(HttpBearer):
    """The `Authorization: Bearer <access token>` header; when it is sent, it decides."""

    def __init__(self, *, fresh: bool = False, verified: bool = False) -> None:
        super().__init__()
        self.fresh, self.verified = fresh, verified

    async def __call__(self, request: HttpRequest) -> AuthSession | None:
        # Replaces HttpBearer.__call__, which logs the raw header (a token) in DEBUG.
        header = request.headers.get(self.header, "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await self.authenticate(request, token.strip())

    async def authenticate(self, request: HttpRequest, token: str) -> AuthSession:
        return await access_token_authenticate(
            request, token, fresh=self.fresh, verified=self.verified
        )


class AccessCookieAuth(APIKeyCookie):
    """The `__Host-access` cookie, under the CSRF rule (accounts.transport.csrf_ensure) rather
    than Django's CSRF token: the API has no forms to put one in."""

    param_name = ACCESS_COOKIE
    enforces_csrf_rule = True  # cookie_of applies it (fastpath.E003 looks for this)

    def __init__(self, *, fresh: bool = False, verified: bool = False) -> None:
        super().__init__(csrf=False)
        self.fresh, self.verified = fresh, verified

    async def __call__(self, request: HttpRequest) -> AuthSession | None:
        if request.headers.get("Authorization"):
            return None  # the header decides, even when it is refused
        token = cookie_of(request, ACCESS_COOKIE)
        if token is None:
            return None
        return await self.authenticate(request, token)

    async def authenticate(self, request: HttpRequest, key: str | None) -> AuthSession:
        assert key is not None  # noqa: S101  # __call__ passes a cookie that was sent
        return await access_token_authenticate(
            request, key, fresh=self.fresh, verified=self.verified
        )


class SignoutCookieAuth(APIKeyCookie):
    """Sign-out's cookies: the access cookie, or when it is absent or refused (expired a second
    before its Max-Age ran out, a JWT_SECRET rotated without a fallback) the `__Host-refresh`
    cookie naming a live session's current refresh token, so that signing out always ends the
    session the browser holds. ninja stops at the first authentication that refuses, hence one
    class for both cookies."""

    param_name = ACCESS_COOKIE
    enforces_csrf_rule = True  # cookie_of applies it (fastpath.E003 looks for this)

    def __init__(self) -> None:
        super().__init__(csrf=False)

    async def __call__(self, request: HttpRequest) -> AuthSession | None:
        if request.headers.get("Authorization"):
            return None
        access = cookie_of(request, ACCESS_COOKIE)
        if access is not None:
            try:
                return await access_token_authenticate(request, access, fresh=False)
            except AccessTokenRefused:
                pass
        refresh = cookie_of(request, REFRESH_COOKIE)
        if refresh is None:
            if access is not None:
                raise AccessTokenRefused
            return None
        return await self.authenticate(request, refresh)

    async def authenticate(self, request: HttpRequest, key: str | None) -> AuthSession:
        session = await selectors.auth_session_get_by_refresh_token(
            token=key or "", now=timezone.now()
        )
        if session is None:
            raise AccessTokenRefused
        request_user_set(session.user_id)
        return session


bearer = BearerAuth()
session_auth = [bearer, AccessCookieAuth()]
fresh_session_auth = [BearerAuth(fresh=True), AccessCookieAuth(fresh=True)]
verified_session_auth = [BearerAuth(verified=True), AccessCookieAuth(verified=True)]
fresh_verified_session_auth = [
    BearerAuth(fresh=True, verified=True),
    AccessCookieAuth(fresh=True, verified=True),
]
signout_auth = [bearer, SignoutCookieAuth()]


def request_session(request: HttpRequest) -> AuthSession:
    """The session the route's authentication found for this request."""
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    return session


def request_chain_id(request: HttpRequest) -> uuid.UUID | None:
    """The refresh-token chain of the access token that authenticated this request: what a
    re-authentication makes fresh. None for a token issued before chains existed, or a
    sign-out authenticated by its refresh cookie alone."""
    chain_id: uuid.UUID | None = getattr(request, "auth_chain_id", None)
    return chain_id
