"""Access tokens (HS256 JWTs naming a user, a session and a refresh-token chain), opaque refresh
tokens, the tokens of links sent by email (each stored as toolkit.tokens.token_digest), and
sign-in codes sent by email."""

import functools
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.utils.crypto import salted_hmac

ALGORITHM = "HS256"
REFRESH_TOKEN_BYTES = 32  # 256 random bits


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    # The refresh-token chain it was issued on (RefreshTokenChain), whose freshness it has;
    # None for a token issued before chains existed, which is never fresh.
    chain_id: uuid.UUID | None


class InvalidAccessToken(Exception):
    pass


def access_token_encode(
    *, user_id: uuid.UUID, session_id: uuid.UUID, chain_id: uuid.UUID, now: datetime
) -> str:
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "chn": str(chain_id),
        "jti": secrets.token_urlsafe(16),  # two tokens issued in the same second still differ
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.ACCESS_TOKEN_TTL)).timestamp()),
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
    }
    return jwt.encode(payload, settings.JWT_SECRET, algorithm=ALGORITHM)


# Verified access tokens remembered per process (see `access_token_decode`): a client sends the
# same token with every call for its lifetime (ACCESS_TOKEN_TTL), so most requests find theirs.
VERIFIED_TOKENS_KEPT = 4096


@dataclass(frozen=True)
class VerifiedToken:
    claims: AccessClaims
    issued_at: int
    expires_at: int
    not_before: int | None


def access_token_decode(token: str) -> AccessClaims:
    """Verify against JWT_SECRET, then each of JWT_SECRET_FALLBACKS (key rotation).

    PyJWT's verification (signature, base64url checks, JSON, claims) is most of an
    authenticated request's own work; a token it accepted is remembered, with the keys,
    audience and issuer it was verified against, and a later call with the same token and the
    same settings only checks its times again, as PyJWT would (an expired token is refused
    whether remembered or not). Only verified tokens are remembered, at most
    VERIFIED_TOKENS_KEPT, least recently used first out; a token only says who its bearer is
    (the session it names is still looked up on every request, so revocation is immediate).
    """
    verified = token_verify(
        token,
        (settings.JWT_SECRET, *settings.JWT_SECRET_FALLBACKS),
        settings.JWT_AUDIENCE,
        settings.JWT_ISSUER,
    )
    now = time.time()
    if verified.issued_at > now or (verified.not_before is not None and verified.not_before > now):
        raise InvalidAccessToken("ImmatureSignatureError")
    if verified.expires_at <= now:
        raise InvalidAccessToken("ExpiredSignatureError")
    return verified.claims


@functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def token_verify(token: str, keys: tuple[str, ...], audience: str, issuer: str) -> VerifiedToken:
    """PyJWT's verification of `token` (raises InvalidAccessToken: nothing is remembered)."""
    for key in keys:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=issuer,
                options={"require": ["sub", "sid", "exp", "iat", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as error:
            raise InvalidAccessToken(type(error).__name__) from None
        try:
            claims = AccessClaims(
                user_id=uuid.UUID(payload["sub"]),
                session_id=uuid.UUID(payload["sid"]),
                # Absent from tokens issued before chains existed; never null otherwise.
                chain_id=uuid.UUID(payload["chn"]) if "chn" in payload else None,
            )
        except (TypeError, ValueError, AttributeError):
            raise InvalidAccessToken("malformed claims") from None
        # PyJWT checked each is an integer.
        not_before = payload.get("nbf")
        return VerifiedToken(
            claims=claims,
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            not_before=None if not_before is None else int(not_before),
        )
    raise InvalidAccessToken("bad signature")


def refresh_token_new() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


EMAIL_TOKEN_BYTES = 32  # 256 random bits in every link sent by email


def email_token_new() -> str:
    return secrets.token_urlsafe(EMAIL_TOKEN_BYTES)


# Sign-in codes sent by email (API.md): 8 characters a person reads and types without confusing
# them (no 0/O, 1/I/L), 40 bits, shown as XXXX-XXXX.
EMAIL_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
EMAIL_CODE_LENGTH = 8


def email_code_new() -> str:
    return "".join(secrets.choice(EMAIL_CODE_ALPHABET) for _ in range(EMAIL_CODE_LENGTH))


def email_code_shown(code: str) -> str:
    """`ABCD-EFGH`, as the message shows it."""
    half = EMAIL_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def email_code_normalize(typed: str) -> str:
    """What a person typed, as stored: letter case, the dash and blanks do not count."""
    return "".join(typed.split()).replace("-", "").upper()


def email_code_digest(*, email: str, code: str) -> str:
    """The stored form of a code: keyed (SECRET_KEY) and bound to its address, since 40 bits
    would fall to anyone holding a plain SHA-256 of them."""
    return salted_hmac("accounts.email_code", f"{email}\n{code}", algorithm="sha256").hexdigest()
