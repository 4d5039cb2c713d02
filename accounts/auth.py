"""Bearer authentication for ninja routes (`auth=bearer`), and the session it authenticated."""

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from accounts import selectors
from accounts.exceptions import AccessTokenRefused
from accounts.flows.sessions import auth_session_touch
from accounts.models import AuthSession
from accounts.tokens import InvalidAccessToken, access_token_decode
from toolkit.request_context import request_user_set


class BearerAuth(HttpBearer):
    """Accepts a live session's access token; `request.auth` is then the AuthSession.

    A valid signature is not enough: the session must be unrevoked and unexpired and its user
    active, so sign-out and deactivation take effect on the very next request.
    """

    async def __call__(self, request: HttpRequest) -> AuthSession | None:
        # Replaces HttpBearer.__call__, which logs the raw header (a token) in DEBUG.
        header = request.headers.get(self.header, "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await self.authenticate(request, token.strip())

    async def authenticate(self, request: HttpRequest, token: str) -> AuthSession:
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
        await auth_session_touch(session=session, now=now)
        return session


bearer = BearerAuth()


def request_session(request: HttpRequest) -> AuthSession:
    """The session `bearer` authenticated this request with."""
    session: AuthSession = request.auth  # type: ignore[attr-defined]
    return session
