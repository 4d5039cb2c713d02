"""Challenges handed to browsers: made, taken once, purged. Only their SHA-256 is stored; the
challenge itself (base64url) is the `challenge_token` clients send back."""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from accounts.maintenance import PurgeRequest
from passkeys.ceremony import b64url_encode
from passkeys.models import PasskeyChallenge, Purpose
from toolkit.batches import batches_delete

CHALLENGE_BYTES = 32


def challenge_digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def challenge_new(*, purpose: Purpose, user_id: uuid.UUID | None, now: datetime) -> bytes:
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    PasskeyChallenge.objects.create(
        purpose=purpose,
        user_id=user_id,
        challenge_hash=challenge_digest(challenge),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.WEBAUTHN_CHALLENGE_TTL),
    )
    return challenge


def challenge_token(challenge: bytes) -> str:
    return b64url_encode(challenge)


def challenge_take(
    *, purpose: Purpose, user_id: uuid.UUID | None, challenge: bytes, now: datetime
) -> bool:
    """Use the challenge up if it is live and was made for this purpose and user; one UPDATE,
    committed at once (call outside a transaction): a second take, or a concurrent one, finds
    it used, and a failed ceremony after it does not give it back."""
    whose = Q(user_id=user_id) if user_id is not None else Q(user__isnull=True)
    taken = PasskeyChallenge.objects.filter(
        whose,
        challenge_hash=challenge_digest(challenge),
        purpose=purpose,
        used_at__isnull=True,
        expires_at__gt=now,
    ).update(used_at=now)
    return taken == 1


def passkey_challenges_purge_expired(request: PurgeRequest) -> dict[str, int]:
    """manage.py purge's share: challenges that are used or expired."""
    deleted, _ = batches_delete(
        PasskeyChallenge.objects.filter(Q(expires_at__lte=request.now) | Q(used_at__isnull=False)),
        batch_size=request.batch_size,
    )
    return {"passkey challenge(s)": deleted}
