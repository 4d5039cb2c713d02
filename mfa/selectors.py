"""Reads: whether a user has a second factor."""

import uuid

from mfa.models import TOTPDevice


def totp_is_on(*, user_id: uuid.UUID) -> bool:
    """Whether the user has a confirmed second factor (one indexed query: the device's primary
    key is the user's). Sync: the sign-in asks it inside its transaction."""
    return TOTPDevice.objects.on().filter(user_id=user_id).exists()
