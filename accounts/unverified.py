"""Accounts whose address nobody has proven yet. Anyone can sign up with someone else's address;
until the mailbox's owner proves it, the account gains no credential besides the password
(User.credential_addition_ensure), and the proof that signs the owner in (a sign-in code, a
password reset) takes the account over from whoever set it up (`unverified_account_take_over`).

The apps that keep credentials (second factors, passkeys, provider identities) register a
remover here from their AppConfig.ready: accounts never imports them (import-linter forbids it),
as with the erasers of accounts.personal_data.
"""

from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.hashers import make_password

from accounts.client import ClientInfo
from accounts.models import RevokedReason, User
from accounts.signals import EventType, credentials_changed

# Deletes every credential the app keeps for the user, and whatever is pending that would make
# one or sign in with one; in the caller's transaction. Answers how many of what, e.g.
# {"passkey(s)": 1}.
CredentialRemover = Callable[[User], dict[str, int]]
removers: list[CredentialRemover] = []


def unverified_credential_remover_register(remover: CredentialRemover) -> None:
    if remover not in removers:
        removers.append(remover)


def unverified_account_take_over(
    *, user: User, method: str, password_set: bool, client: ClientInfo, now: datetime
) -> None:
    """The mailbox's owner proved it on an account that was unverified: nothing whoever signed
    up with the address set up survives. Every credential the apps keep goes (none may be added
    before the proof; any there was added by someone who never proved the address, or came from
    a provider that did not vouch for it), every session and pending link or challenge ends, and
    the password too unless this very proof set it (`password_set`: stored through
    User.password_store in this transaction). Recorded as `unverified_credentials_cleared` when
    anything went.

    Call inside the transaction that marks the address verified, before a session is opened or
    a second factor asked for: the owner gets a session, never a challenge from someone else's
    authenticator.

    Staff are left as they are: an operator made them staff, nobody's sign-up did, and their
    second factor may come from the admin login's setup (ADMIN_REQUIRE_MFA), which asks for no
    verified address; removing it would let the mailbox alone reach the admin."""
    if user.is_staff:
        return
    removed: dict[str, int] = {}
    for remover in removers:
        for what, count in remover(user).items():
            if count:
                removed[what] = removed.get(what, 0) + count
    revoked = user.auth_sessions.revoke(reason=RevokedReason.MAILBOX_PROVEN, now=now)
    user.pending_end(now=now, signal=credentials_changed)
    password_dropped = not password_set and user.has_usable_password()
    if password_dropped:
        # Chosen by whoever signed up; through password_store, which ends what any new password
        # ends (nothing is left to end by now).
        user.password_store(make_password(None), reason=RevokedReason.MAILBOX_PROVEN, now=now)
    if removed or revoked or password_dropped:
        client.event(
            EventType.UNVERIFIED_CREDENTIALS_CLEARED,
            user_id=user.pk,
            detail={
                "method": method,
                "removed": removed,
                "sessions_revoked": revoked,
                "password_dropped": password_dropped,
            },
        )
