"""mfa's receivers of accounts' signals: a new password or a deactivated user ends the user's
half-done sign-ins."""

from datetime import datetime
from typing import Any

from accounts.models import User
from mfa.models import MfaChallenge


def challenges_end(sender: object, *, user: User, now: datetime, **kwargs: Any) -> None:
    """Delete every challenge of `user`: one obtained with the old password, or before the user
    was made inactive, must not be answerable afterwards (also once the user is active again).
    Runs in the sender's transaction; waits for a check that holds a challenge's lock."""
    MfaChallenge.objects.filter(user_id=user.pk).delete()
