"""Password hashing off the event loop, on a bounded pool of low-priority threads.

Argon2 (Django's hasher: 100 MiB, t=2, p=8) takes ~100 ms of both cores per hash. Running it on
the event loop stalls every other request; running it unbounded needs 100 MiB per waiting
sign-up. So: HASHER_CONCURRENCY threads hash (fewer if HASHER_MEMORY_MIB cannot hold that many
hashes at once), HASHER_QUEUE more may wait, and beyond that callers get HasherOverloaded (503
with Retry-After) at once. The threads run at the lowest CPU priority so that the event loop wins
the CPU and `/health` stays fast during a sign-up storm. No request holds a database connection
while it waits here: the connection goes back to the pool after each ORM call (on the fast
path, after every piece of work on the request's thread; see fastpath.handlers).
"""

import asyncio
import contextlib
import math
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    ScryptPasswordHasher,
    check_password,
    get_hasher,
    make_password,
)
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

from accounts.exceptions import HasherOverloaded
from toolkit import metrics

T = TypeVar("T")
LOWEST_PRIORITY = 19


def lower_thread_priority() -> None:
    # Not Linux: no per-thread priority, but the pool still bounds the work.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class HasherPool:
    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self.admitted = 0
        self.lock = threading.Lock()
        self.executor = ThreadPoolExecutor(
            max_workers=concurrency,
            thread_name_prefix="password-hasher",
            initializer=lower_thread_priority,
        )

    def ensure_capacity(self) -> None:
        """Shed early: refuse before any database work when no hashing slot could be had."""
        if self.admitted >= self.capacity:
            metrics.PASSWORD_HASHING_SHED.inc()
            raise HasherOverloaded

    def occupancy_record(self) -> None:
        """The gauges of hashes running and waiting; called with the lock held."""
        metrics.PASSWORD_HASHING_IN_USE.set(min(self.admitted, self.concurrency))
        metrics.PASSWORD_HASHING_QUEUED.set(max(0, self.admitted - self.concurrency))

    def release(self, _future: Future[Any]) -> None:
        with self.lock:
            self.admitted -= 1
            self.occupancy_record()

    async def run(self, function: Callable[..., T], *args: object) -> T:
        with self.lock:
            if self.admitted >= self.capacity:
                metrics.PASSWORD_HASHING_SHED.inc()
                raise HasherOverloaded
            self.admitted += 1
            self.occupancy_record()
        future = self.executor.submit(function, *args)
        # Released when the hash ends, not when the caller stops waiting: a client that hangs up
        # does not free the slot its hash still occupies.
        future.add_done_callback(self.release)
        return await asyncio.wrap_future(future)


def hash_memory_mib() -> int:
    """Memory one hash of the configured hasher takes, in MiB (0 when it is not memory-hard)."""
    hasher = get_hasher()
    if isinstance(hasher, Argon2PasswordHasher):
        return math.ceil(hasher.memory_cost / 1024)  # memory_cost is in KiB
    if isinstance(hasher, ScryptPasswordHasher):
        return math.ceil(128 * hasher.work_factor * hasher.block_size / 2**20)
    return 0


def hashing_slots(*, concurrency: int, memory_budget_mib: int) -> int:
    """Hashes allowed at once: `concurrency`, lowered so that their memory fits the budget."""
    per_hash = hash_memory_mib()
    if not per_hash:
        return concurrency
    slots = min(concurrency, memory_budget_mib // per_hash)
    if slots < 1:
        raise ImproperlyConfigured(
            f"HASHER_MEMORY_MIB must hold at least one password hash ({per_hash} MiB with the "
            f"configured hasher), got {memory_budget_mib}."
        )
    return slots


@cache
def hasher_pool() -> HasherPool:
    slots = hashing_slots(
        concurrency=settings.HASHER_CONCURRENCY, memory_budget_mib=settings.HASHER_MEMORY_MIB
    )
    return HasherPool(slots, settings.HASHER_QUEUE)


def hasher_capacity_ensure() -> None:
    hasher_pool().ensure_capacity()


def pooled_connection_release() -> None:
    """Hand this thread's pooled database connection back before waiting for a hash, unless a
    transaction holds it: a request must not keep a connection through a 100 ms hash (nor
    while it queues for one), or a burst of sign-ins would empty the pool."""
    connection = connections[DEFAULT_DB_ALIAS]
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


async def connection_release_before_hashing() -> None:
    # The fast path already hands connections back after every ORM call (fastpath.handlers);
    # stock Django keeps them until the request ends.
    if not settings.FAST_PATH:
        await sync_to_async(pooled_connection_release)()


async def password_hash(password: str | None) -> str:
    await connection_release_before_hashing()
    return await hasher_pool().run(make_password, password)


async def password_verify(password: str, encoded: str) -> bool:
    await connection_release_before_hashing()
    return await hasher_pool().run(check_password, password, encoded)


@cache
def dummy_password_hash() -> str:
    """A hash of a random password, checked when the email is unknown so timing matches."""
    return make_password(secrets.token_urlsafe(16))


async def password_verify_dummy(password: str) -> None:
    await connection_release_before_hashing()
    await hasher_pool().run(lambda: check_password(password, dummy_password_hash()))
