"""What the routes that open a session answer (accounts' and mfa's): the session, or the second
factor's challenge to answer first."""

from accounts.flows.issue import IssuedSession
from accounts.second_factor import SecondFactorChallenge
from toolkit.request_context import request_user_set


def session_out(issued: IssuedSession) -> dict[str, object]:
    """A SessionOut."""
    request_user_set(issued.user.pk)  # for the access log line of this request
    return {
        "user": issued.user,
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }


def signin_out(answer: IssuedSession | SecondFactorChallenge) -> dict[str, object]:
    """A SessionOut, or, when a second factor must come first, a SigninChallengeOut."""
    if isinstance(answer, SecondFactorChallenge):
        return {
            "mfa_required": True,
            "mfa_token": answer.token,
            "methods": answer.methods,
            "expires_in": answer.expires_in,
        }
    return session_out(answer)
