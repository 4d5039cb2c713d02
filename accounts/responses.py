"""What the routes that open a session answer (accounts' and mfa's): the session, or the second
factor's challenge to answer first."""

from django.http import HttpRequest

from accounts.flows.issue import IssuedSession
from accounts.second_factor import SecondFactorChallenge
from accounts.transport import session_issued_remember
from toolkit.request_context import request_user_set


def session_out(request: HttpRequest, issued: IssuedSession) -> dict[str, object]:
    """A SessionOut; in cookie mode (accounts.transport) a SessionCookieOut, the refresh token
    going in its cookie instead."""
    request_user_set(issued.user.pk)  # for the access log line of this request
    answer: dict[str, object] = {
        "user": issued.user,
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }
    if session_issued_remember(request, issued):
        del answer["refresh_token"]
    return answer


def signin_out(
    request: HttpRequest, answer: IssuedSession | SecondFactorChallenge
) -> dict[str, object]:
    """A session answer (session_out), or, when a second factor must come first, a
    SigninChallengeOut."""
    if isinstance(answer, SecondFactorChallenge):
        return {
            "mfa_required": True,
            "mfa_token": answer.token,
            "methods": answer.methods,
            "expires_in": answer.expires_in,
        }
    return session_out(request, answer)
