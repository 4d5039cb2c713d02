"""Fixed-window throttles in a store every worker process shares: PostgreSQL (or SQLite) by
default, counted atomically with one upsert; Redis when REDIS_URL is set.

Redis not answering refuses what it should count (ThrottleStoreUnavailable, 503 with
Retry-After) and nothing else; a count it cannot take back is left standing. Redis kept without
persistence forgets its counts when it restarts: every budget starts afresh."""

import contextlib
import hashlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.db.models import F
from django.http import HttpRequest

from accounts.exceptions import AccountsError, Throttled, ThrottleStoreUnavailable
from accounts.models import ThrottleCounter
from toolkit import metrics
from toolkit.client_address import ForwardedAddressInvalid, configured_rule
from toolkit.rates import Rate

if TYPE_CHECKING:
    import redis.asyncio

logger = logging.getLogger("accounts.throttles")


class ClientAddressInvalid(AccountsError, SuspiciousOperation):
    """A trusted proxy's CLIENT_IP_HEADER holds something that is not a client address: 400.

    Falling back to the peer (the proxy) would put every such client in one throttle bucket.
    A SuspiciousOperation too, so that outside the API views (the admin login middleware)
    Django answers it with handler400 and logs one warning line.
    """

    detail = "The client address header is not an IP address"


def client_ip(request: HttpRequest) -> str | None:
    """The client's real address, as recorded on its sessions and counted by the throttles.

    The TCP peer address, or, when CLIENT_IP_HEADER names a header the proxy sets and the peer is
    one of TRUSTED_PROXIES, that header's rightmost entry (toolkit.client_address). A trusted
    proxy's header that holds no address raises ClientAddressInvalid; from any other peer the
    header is ignored, whatever it holds.
    """
    rule = configured_rule()
    forwarded = request.META.get(rule.meta_key) if rule.meta_key else None
    try:
        return rule.client_address(request.META.get("REMOTE_ADDR"), forwarded)
    except ForwardedAddressInvalid as error:
        raise ClientAddressInvalid(str(error)) from None


def throttle_identity(ip: str) -> str:
    """Whom an address-keyed throttle counts: one IPv4 address, or one IPv6 network.

    One IPv6 subscriber usually gets a whole /64 (THROTTLE_IPV6_PREFIX), and can pick a new
    address in it for every request; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, a dual-stack
    socket's view of an IPv4 client) is that IPv4 address.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, settings.THROTTLE_IPV6_PREFIX), strict=False)
        return str(network)
    return str(address)


def counter_key(scope: str, identity: str) -> str:
    # Scopes keyed by a client address end in "-ip", the address being the identity or its last
    # word ("email address"): they count the address's throttle identity (IPv6: its network).
    if scope.endswith("-ip"):
        prefix, space, address = identity.rpartition(" ")
        identity = prefix + space + throttle_identity(address)
    # Hashed: keys never store an email or an address in the clear, and have a bounded length.
    return f"{scope}:{hashlib.sha256(identity.encode()).hexdigest()[:40]}"


def window(rate: Rate, now: float) -> tuple[int, int]:
    """This window's start, and seconds until the next one."""
    start = int(now) // rate.period * rate.period
    return start, max(1, start + rate.period - int(now))


def upsert_sql() -> str:
    # The only interpolated name is our own table's; every value is a bound parameter.
    table = connection.ops.quote_name(ThrottleCounter._meta.db_table)
    return (
        f'INSERT INTO {table} ("key", "window_start", "count") VALUES (%s, %s, %s) '  # noqa: S608
        f'ON CONFLICT ("key") DO UPDATE SET "count" = CASE WHEN {table}."window_start" = '
        f'excluded."window_start" THEN {table}."count" + %s ELSE excluded."count" END, '
        f'"window_start" = excluded."window_start" RETURNING "count"'
    )


def database_increment(key: str, window_start: int, by: int = 1) -> int:
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql(), [key, window_start, by, by])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def database_decrement(key: str, window_start: int, by: int) -> int:
    """Only within the same window: a counter that moved on to a new window is left alone."""
    return ThrottleCounter.objects.filter(key=key, window_start=window_start, count__gte=by).update(
        count=F("count") - by
    )


@cache
def redis_client() -> "redis.asyncio.Redis":
    import redis.asyncio

    return redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=2)


def redis_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def throttle_store_unavailable(error: Exception) -> ThrottleStoreUnavailable:
    # redis-py's messages name the host and port, never the URL's password.
    logger.error(
        "Throttle store unreachable: %s",
        " ".join(str(error).split())[:200] or type(error).__name__,
        extra={"event": "throttle.store_unreachable"},
    )
    return ThrottleStoreUnavailable()


def redis_key(key: str, window_start: int) -> str:
    return f"throttle:{key}:{window_start}"


async def increment(key: str, window_start: int, ttl: int, by: int = 1) -> int:
    """Add `by` to the window's count and give the new count (a negative `by` never starts a
    window: it only takes back what this window counted)."""
    if settings.REDIS_URL:
        client = redis_client()
        try:
            async with client.pipeline(transaction=True) as pipe:
                pipe.incrby(redis_key(key, window_start), by)
                pipe.expire(redis_key(key, window_start), ttl + 1)
                count, _ = await pipe.execute()
        except redis_errors() as error:
            raise throttle_store_unavailable(error) from None
        return int(count)
    if by < 0:
        return await sync_to_async(database_decrement)(key, window_start, -by)
    return await sync_to_async(database_increment)(key, window_start, by)


async def peek(key: str, window_start: int) -> int:
    if settings.REDIS_URL:
        try:
            value = await redis_client().get(redis_key(key, window_start))
        except redis_errors() as error:
            raise throttle_store_unavailable(error) from None
        return int(value or 0)
    row = await ThrottleCounter.objects.filter(key=key, window_start=window_start).afirst()
    return row.count if row else 0


@dataclass(frozen=True)
class Attempt:
    """One counted request, which `throttle_forgive` can take back (a sign-in that succeeded)."""

    key: str
    window_start: int
    period: int


async def throttle_count(scope: str, identity: str | None, rate: Rate) -> Attempt | None:
    """Count one request now, atomically; raise Throttled (taking the count back: a refused
    request is not an attempt) when the window's count goes over the rate."""
    if not settings.RATE_LIMITS or identity is None:
        return None
    start, retry_after = window(rate, time.time())
    attempt = Attempt(counter_key(scope, identity), start, rate.period)
    if await increment(attempt.key, start, rate.period) > rate.count:
        await throttle_forgive(attempt)
        raise throttle_refused(scope, retry_after)
    return attempt


def throttle_refused(scope: str, retry_after: int) -> Throttled:
    """The refusal, counted and logged as a security event (the scope says which budget ran
    out; the key, a digest of an email or address, is never logged)."""
    metrics.THROTTLE_REFUSALS.labels(scope).inc()
    logger.warning(
        "Throttled: %s budget spent",
        scope,
        extra={"event": "throttle.refused", "scope": scope, "retry_after": retry_after},
    )
    return Throttled(retry_after)


async def throttle_forgive(attempt: Attempt | None) -> None:
    """Take back one counted attempt, in the window it was counted in."""
    if attempt is not None:
        # Best effort: an answer already decided is not turned into a 503 for want of it.
        with contextlib.suppress(ThrottleStoreUnavailable):
            await increment(attempt.key, attempt.window_start, attempt.period, by=-1)


async def throttle_hit(scope: str, identity: str | None, rate: Rate) -> None:
    """Count one request; raise Throttled when the window's count goes over the rate."""
    await throttle_count(scope, identity, rate)


async def throttle_check(scope: str, identity: str, rate: Rate) -> None:
    """Raise Throttled if the window is already full, without counting this request."""
    if not settings.RATE_LIMITS:
        return
    start, retry_after = window(rate, time.time())
    if await peek(counter_key(scope, identity), start) >= rate.count:
        raise throttle_refused(scope, retry_after)


# One budget: (scope, identity, rate); an identity of None is not counted (no client address).
Budget = tuple[str, str | None, Rate]


async def budgets_spend[T](budgets: Sequence[Budget], check: Callable[[], Awaitable[T]]) -> T:
    """Run one guess (a password, a second-factor code) against every budget it spends.

    Counted in every budget first, atomically, so concurrent guesses cannot all slip under
    one; over any budget: Throttled, and `check` never runs. `check` answers None or False
    for a wrong guess, which keeps its counts. A right answer gives every count back, and so
    does a check that raised (refused before it checked anything: a full hashing pool, a dead
    challenge): only wrong guesses are spent.
    """
    attempts: list[Attempt | None] = []
    try:
        for scope, identity, rate in budgets:
            attempts.append(await throttle_count(scope, identity, rate))
        result = await check()
    except Exception:
        for attempt in attempts:
            await throttle_forgive(attempt)
        raise
    if result is not None and result is not False:
        for attempt in attempts:
            await throttle_forgive(attempt)
    return result


def throttle_counters_forget(identities: Iterable[tuple[str, str]]) -> int:
    """Delete the counters of these (scope, identity) pairs (an erased account's address and
    id), in every window; answers how many. In Redis, best effort: its counters expire with
    their window anyway."""
    keys = [counter_key(scope, identity) for scope, identity in identities]
    if settings.REDIS_URL:
        import redis

        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
            found = [name for key in keys for name in client.scan_iter(match=f"throttle:{key}:*")]
            return int(client.delete(*found)) if found else 0
        except redis_errors() as error:
            logger.warning("Throttle counters not forgotten: %s", type(error).__name__)
            return 0
    deleted, _ = ThrottleCounter.objects.filter(key__in=keys).delete()
    return deleted
