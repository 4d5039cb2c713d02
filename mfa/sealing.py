"""TOTP secrets sealed at rest (Fernet: AES-128-CBC with HMAC-SHA256), so a copy of the
database or of a backup alone yields no authenticator secret.

The keys derive from SECRET_KEY and SECRET_KEY_FALLBACKS, which Django already asks operators to
keep secret and to rotate with fallbacks: new secrets are sealed with SECRET_KEY's key, and any
fallback's key still opens older ones (re-sealed on their next use is not needed: a fallback
stays until every device was set up again or the fallback is dropped deliberately).
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

PURPOSE = b"mfa.totp-secret"


def fernet_key(secret_key: str) -> bytes:
    digest = hmac.new(secret_key.encode(), PURPOSE, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def keys_for(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(fernet_key(key)) for key in (secret_key, *fallbacks)])


def keys() -> MultiFernet:
    return keys_for(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))


def secret_seal(secret: str) -> str:
    return keys().encrypt(secret.encode()).decode()


def secret_open(sealed: str) -> str:
    return keys().decrypt(sealed.encode()).decode()
