"""The digest under which every secret token is stored and looked up (refresh tokens, the tokens
of links sent by email, second-factor challenges, recovery codes)."""

import hashlib


def token_digest(token: str) -> str:
    """SHA-256, hex: enough for tokens of 80 or more random bits, which have nothing to stretch
    (a password does: accounts.hashing). The database keeps only this."""
    return hashlib.sha256(token.encode()).hexdigest()
