"""What the service keeps about one person, gathered from every app: each app adds its part to
the account's export (GET /api/auth/me/export) and erases its own rows when the account is
erased (accounts.flows.deletion).

accounts never imports the apps that build on it (import-linter forbids it): `audit` and `mfa`
register here from their AppConfig.ready, as they register purgers with accounts.maintenance.
An app that keeps passkeys or linked identities registers a part answering
`{"passkeys": [...]}` or `{"identities": [...]}` (the export has empty lists until one does).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import User

# Called inside the export's transaction; answers top-level keys of the document, never a secret,
# a hash or a token (ids, names, times, flags).
ExportPart = Callable[[User], dict[str, object]]
export_parts: list[ExportPart] = []


def export_part_register(part: ExportPart) -> None:
    if part not in export_parts:
        export_parts.append(part)


def export_parts_gather(user: User) -> dict[str, object]:
    gathered: dict[str, object] = {}
    for part in export_parts:
        gathered.update(part(user))
    return gathered


@dataclass
class Erasure:
    """One account being erased, in the transaction that deletes its row (locked). `ips` are
    the client addresses it was seen from: accounts adds its sessions', and an eraser may add
    what it knows (the events' addresses) for the throttle counters keyed by them."""

    user: User
    ips: set[str] = field(default_factory=set)


# Deletes what the app keeps about `erasure.user` (and whatever names them in other users' rows),
# before the user's row goes; answers how many rows of what, e.g. {"recovery code(s)": 10}.
Eraser = Callable[[Erasure], dict[str, int]]
erasers: list[Eraser] = []


def eraser_register(eraser: Eraser) -> None:
    if eraser not in erasers:
        erasers.append(eraser)


def erasers_run(erasure: Erasure) -> dict[str, int]:
    """Every registered eraser, in registration order (INSTALLED_APPS order)."""
    erased: dict[str, int] = {}
    for eraser in erasers:
        for what, count in eraser(erasure).items():
            erased[what] = erased.get(what, 0) + count
    return erased
