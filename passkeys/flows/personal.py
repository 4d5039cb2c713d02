"""Passkeys in the account's other journeys: a way in (accounts.signin_methods), a part of the
export, rows erased with the account (accounts.personal_data), and rows removed when the owner
of an unverified address proves it (accounts.unverified)."""

from accounts.models import User
from accounts.personal_data import Erasure
from passkeys.models import Passkey, PasskeyChallenge, PasskeyUser


def passkeys_count(user: User) -> int:
    """accounts.signin_methods asks it: each passkey is a way in."""
    return Passkey.objects.filter(user_id=user.pk).count()


def passkeys_exported(user: User) -> dict[str, object]:
    """The account export's `passkeys`: no credential id, no key, no handle."""
    return {
        "passkeys": [
            {
                "id": passkey.pk,
                "name": passkey.name,
                "created_at": passkey.created_at,
                "last_used_at": passkey.last_used_at,
                "backup_eligible": passkey.backup_eligible,
                "backed_up": passkey.backed_up,
            }
            for passkey in Passkey.objects.filter(user_id=user.pk).order_by("created_at", "pk")
        ]
    }


def passkeys_erase(erasure: Erasure) -> dict[str, int]:
    """An erased account's passkeys, its user handle and its pending challenges."""
    return passkeys_of_user_delete(erasure.user)


def passkeys_of_user_delete(user: User) -> dict[str, int]:
    """The user's passkeys, their user handle and their pending challenges: on erasure, and
    when the owner of an unverified address proves it (accounts.unverified: any passkey there
    was registered by someone who never did)."""
    passkeys, _ = Passkey.objects.filter(user_id=user.pk).delete()
    PasskeyUser.objects.filter(user_id=user.pk).delete()
    PasskeyChallenge.objects.filter(user_id=user.pk).delete()
    return {"passkey(s)": passkeys}
