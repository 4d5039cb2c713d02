"""What `manage.py purge` drops: each app registers what of its own expires.

accounts never imports the apps that build on it (import-linter forbids it), so `audit` and
`mfa` register their purges here from their AppConfig.ready, as mfa registers its second
factor with accounts.second_factor.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from toolkit.batches import BATCH_SIZE, batches_delete


@dataclass(frozen=True)
class PurgeRequest:
    """When the purge runs, how long it keeps what an operator may still want to see, and how
    many rows each of its transactions deletes at most (toolkit.batches)."""

    now: datetime
    revoked_before: datetime  # revoked sessions are kept until then, for the admin's eyes
    tasks_finished_before: datetime  # finished task results (sent email, failures) likewise
    batch_size: int = BATCH_SIZE


# Each purger deletes what can no longer be used, `request.batch_size` rows per transaction at
# most (toolkit.batches.batches_delete), and says how many rows of what it dropped, e.g.
# {"second-factor challenge(s)": 3}.
Purger = Callable[[PurgeRequest], dict[str, int]]
purgers: list[Purger] = []


def purger_register(purger: Purger) -> None:
    if purger not in purgers:
        purgers.append(purger)


def purge_all(request: PurgeRequest) -> dict[str, int]:
    """Run every registered purger, in registration order (accounts first)."""
    dropped: dict[str, int] = {}
    for purger in purgers:
        dropped.update(purger(request))
    return dropped


def accounts_purge(request: PurgeRequest) -> dict[str, int]:
    """Dead sessions, dead link tokens, stale throttle counters, and old task results."""
    from django_tasks_db.models import DBTaskResult

    from accounts.flows.sessions import auth_sessions_purge

    sessions, email_tokens, counters = auth_sessions_purge(
        now=request.now, revoked_before=request.revoked_before, batch_size=request.batch_size
    )
    task_results, _ = batches_delete(
        DBTaskResult.objects.finished().filter(finished_at__lte=request.tasks_finished_before),
        batch_size=request.batch_size,
    )
    return {
        "session(s)": sessions,
        "email token(s)": email_tokens,
        "throttle counter(s)": counters,
        "task result(s)": task_results,
    }
