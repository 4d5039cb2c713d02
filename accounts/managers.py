"""The managers: users (email is the login, stored in the one canonical form of
`UserManager.normalize_email`), sessions (the liveness rule, revocation) and the tokens of links
sent by email (checked and used in one place)."""

import logging
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import idna
from django.contrib.auth.base_user import BaseUserManager
from django.db import models, transaction
from django.utils import timezone

from accounts.exceptions import InvalidEmailToken
from toolkit import metrics
from toolkit.tokens import token_digest

if TYPE_CHECKING:
    from accounts.models import (
        AuthSession,  # noqa: F401 - named in a base class's string
        EmailToken,
        EmailTokenPurpose,
        RevokedReason,
        User,
    )

logger = logging.getLogger("accounts")


def normalize_domain(domain: str) -> str:
    try:
        return idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        return domain.casefold()  # not a valid name: validation refuses it elsewhere


def email_local_part_allowed(email: str) -> bool:
    """New addresses must have an ASCII local part once normalised: letters, digits and the
    punctuation RFC 5321 allows. Unicode local parts are where look-alikes hide (`ana` with a
    Cyrillic first `a`, a dotless `i`, a dotted capital `I`), and mixed- or whole-script
    checks still let some through."""
    return UserManager.normalize_email(email).rpartition("@")[0].isascii()


@dataclass
class EmailRenormalisation:
    """What normalising stored addresses again would do: rows to rewrite, and collisions (rows
    whose canonical form is another row's, which need a person to decide)."""

    changes: list[tuple[Any, str, str]] = field(default_factory=list)  # (pk, stored, canonical)
    collisions: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)


def email_renormalisation_plan(rows: Iterable[tuple[Any, str]]) -> EmailRenormalisation:
    """Plan for `(pk, email)` rows. A row whose canonical form no other row has (stored or
    canonical) is rewritten; every row of a canonical form that several rows share is left as
    it is and reported."""
    by_canonical: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for pk, email in rows:
        by_canonical[UserManager.normalize_email(email)].append((pk, email))
    plan = EmailRenormalisation()
    for canonical, holders in sorted(by_canonical.items()):
        if len(holders) > 1:
            plan.collisions[canonical] = sorted(holders, key=lambda holder: holder[1])
        elif holders[0][1] != canonical:
            plan.changes.append((holders[0][0], holders[0][1], canonical))
    return plan


def email_renormalisation_apply(model: Any, plan: EmailRenormalisation) -> list[str]:
    """Rewrite the planned rows of `model` (the User model, or a migration's historical one),
    each only if still stored as planned; returns the canonical forms another row took meanwhile
    (left unchanged, like the planned collisions)."""
    from django.db import IntegrityError, transaction

    taken = []
    with transaction.atomic():
        for pk, stored, canonical in plan.changes:
            try:
                with transaction.atomic():
                    model.objects.filter(pk=pk, email=stored).update(email=canonical)
            except IntegrityError:
                taken.append(canonical)
    return taken


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """The one canonical form of an email, which uniqueness and every lookup use.

        The whole address NFKC-normalised (a fullwidth `a`, U+FF41, is `a`), the local part
        case-folded (`İ`, `ß` and `A` fold as Unicode says), the domain in IDNA's UTS 46 form,
        lowercase Unicode (`xn--bcher-kva.example` and `BÜCHER.example` are
        `bücher.example`), as email-validator writes it. Look-alikes that survive this (a
        Cyrillic `a`, U+0430) are refused at sign-up by `email_local_part_allowed`, not
        rewritten. Replaces BaseUserManager's, which lowercases the domain only.
        """
        email = (email or "").strip()
        if email.isascii() and "xn--" not in email.lower():
            return email.lower()  # what NFKC, casefold and IDNA do to plain ASCII, cheaply
        local, at, domain = unicodedata.normalize("NFKC", email).rpartition("@")
        if not at:
            return domain.casefold()
        return f"{local.casefold()}@{normalize_domain(domain)}"

    def get_by_natural_key(self, username: str | None) -> "User":
        # Admin login and createsuperuser look users up here: match any letter case.
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("Users must have an email address.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    async def acreate_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        """Create a user without hashing on the event loop (the hash runs on the hasher pool)."""
        from accounts.hashing import password_hash

        encoded = await password_hash(password)
        user = self.model(email=self.normalize_email(email), password=encoded, **extra)
        await user.asave(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self.create_user(email, password, **extra)


class AuthSessionQuerySet(models.QuerySet["AuthSession"]):
    def live(self, now: datetime) -> "AuthSessionQuerySet":
        """The liveness rule: unrevoked and unexpired at `now` (whether the user is active is
        the user's rule). AuthSession.is_live_at says the same of a row already in hand."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)

    def revoke(self, *, reason: "RevokedReason", now: datetime | None = None) -> int:
        """Revoke those of these sessions not revoked yet (sign-out, theft, password change,
        operator); already revoked ones keep their first reason and time. Returns how many; they
        are counted (metrics, log) once the transaction commits."""
        count = self.filter(revoked_at__isnull=True).update(
            revoked_at=now or timezone.now(), revoked_reason=reason
        )
        if count:
            transaction.on_commit(lambda: sessions_revoked(reason, count), using=self.db)
        return count


def sessions_revoked(reason: str, count: int) -> None:
    metrics.SESSIONS_REVOKED.labels(reason).inc(count)
    logger.info(
        "%d session(s) revoked (%s)",
        count,
        reason,
        extra={"event": "session.revoked", "reason": reason, "count": count},
    )


class EmailTokenQuerySet(models.QuerySet["EmailToken"]):
    def for_user(self, user: "User") -> "EmailTokenQuerySet":
        return self.filter(user_id=user.pk)

    def pending(self) -> "EmailTokenQuerySet":
        """Not used yet (expired ones included: ending them too costs nothing)."""
        return self.filter(used_at__isnull=True)

    def end(self, now: datetime) -> int:
        """Make these links dead: marked used at `now`, so a link that was followed meanwhile
        keeps its own time, and manage.py purge drops them with the used ones. A link being
        confirmed holds its row's lock: this waits for it, then skips it if it was used."""
        return self.filter(used_at__isnull=True).update(used_at=now)

    def usable(self, *, token: str, purpose: "EmailTokenPurpose", now: datetime) -> "EmailToken":
        """The row of a link's token, locked (call inside a transaction), with its user;
        InvalidEmailToken (400) when it is unknown, of another purpose, or not usable at `now`
        (EmailToken.is_usable_at)."""
        found = (
            self.select_for_update()
            .select_related("user")
            .filter(token_hash=token_digest(token), purpose=purpose)
            .first()
        )
        if found is None or not found.is_usable_at(now):
            raise InvalidEmailToken
        return found

    def consume(self, *, token: str, purpose: "EmailTokenPurpose", now: datetime) -> "EmailToken":
        """The one way a link's token is checked and used: `usable`, then marked used at `now`,
        in the caller's transaction (a refusal after this, rolled back, leaves the link usable)."""
        found = self.usable(token=token, purpose=purpose, now=now)
        found.used_at = now
        found.save(update_fields=["used_at"])
        return found
