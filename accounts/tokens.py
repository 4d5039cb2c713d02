"""Access tokens (HS256 JWTs naming a user and a session), opaque refresh tokens, and the tokens
of links sent by email (each stored as toolkit.tokens.token_digest)."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings

ALGORITHM = "HS256"
REFRESH_TOKEN_BYTES = 32  # 256 random bits


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID


class InvalidAccessToken(Exception):
    pass


def access_token_encode(*, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> str:
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": secrets.token_urlsafe(16),  # two tokens issued in the same second still differ
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.ACCESS_TOKEN_TTL)).timestamp()),
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
    }
    return jwt.encode(payload, settings.JWT_SECRET, algorithm=ALGORITHM)


def access_token_decode(token: str) -> AccessClaims:
    """Verify against JWT_SECRET, then each of JWT_SECRET_FALLBACKS (key rotation)."""
    for key in [settings.JWT_SECRET, *settings.JWT_SECRET_FALLBACKS]:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=settings.JWT_AUDIENCE,
                issuer=settings.JWT_ISSUER,
                options={"require": ["sub", "sid", "exp", "iat", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as error:
            raise InvalidAccessToken(type(error).__name__) from None
        try:
            return AccessClaims(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]))
        except (TypeError, ValueError, AttributeError):
            raise InvalidAccessToken("malformed claims") from None
    raise InvalidAccessToken("bad signature")


def refresh_token_new() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


EMAIL_TOKEN_BYTES = 32  # 256 random bits in every link sent by email


def email_token_new() -> str:
    return secrets.token_urlsafe(EMAIL_TOKEN_BYTES)
