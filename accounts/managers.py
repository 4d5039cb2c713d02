"""The user manager: email is the login, stored in the one canonical form of
`UserManager.normalize_email`."""

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import idna
from django.contrib.auth.base_user import BaseUserManager

if TYPE_CHECKING:
    from accounts.models import User


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
