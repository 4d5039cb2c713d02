"""Fixed-window throttles in a store every worker process shares: PostgreSQL (or SQLite) by
default, counted atomically with one upsert; Redis when REDIS_URL is set."""

import hashlib
import ipaddress
import time
from functools import cache
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from accounts.exceptions import Throttled
from accounts.models import ThrottleCounter
from project.rates import Rate

if TYPE_CHECKING:
    import redis.asyncio


def client_ip(request: HttpRequest) -> str | None:
    """The peer address, or the rightmost entry of CLIENT_IP_HEADER when a proxy sets it."""
    if settings.CLIENT_IP_HEADER:
        meta_key = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
        forwarded = request.META.get(meta_key, "")
        candidate = forwarded.split(",")[-1].strip()
        if candidate:
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    remote = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


def counter_key(scope: str, identity: str) -> str:
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
        f'INSERT INTO {table} ("key", "window_start", "count") VALUES (%s, %s, 1) '  # noqa: S608
        f'ON CONFLICT ("key") DO UPDATE SET "count" = CASE WHEN {table}."window_start" = '
        f'excluded."window_start" THEN {table}."count" + 1 ELSE 1 END, '
        f'"window_start" = excluded."window_start" RETURNING "count"'
    )


def database_increment(key: str, window_start: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql(), [key, window_start])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@cache
def redis_client() -> "redis.asyncio.Redis":
    import redis.asyncio

    return redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=2)


def redis_key(key: str, window_start: int) -> str:
    return f"throttle:{key}:{window_start}"


async def increment(key: str, window_start: int, ttl: int) -> int:
    if settings.REDIS_URL:
        client = redis_client()
        async with client.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key(key, window_start))
            pipe.expire(redis_key(key, window_start), ttl + 1)
            count, _ = await pipe.execute()
        return int(count)
    return await sync_to_async(database_increment)(key, window_start)


async def peek(key: str, window_start: int) -> int:
    if settings.REDIS_URL:
        value = await redis_client().get(redis_key(key, window_start))
        return int(value or 0)
    row = await ThrottleCounter.objects.filter(key=key, window_start=window_start).afirst()
    return row.count if row else 0


async def throttle_hit(scope: str, identity: str | None, rate: Rate) -> None:
    """Count one request; raise Throttled when the window's count goes over the rate."""
    if not settings.RATE_LIMITS or identity is None:
        return
    start, retry_after = window(rate, time.time())
    if await increment(counter_key(scope, identity), start, rate.period) > rate.count:
        raise Throttled(retry_after)


async def throttle_check(scope: str, identity: str, rate: Rate) -> None:
    """Raise Throttled if the window is already full, without counting this request."""
    if not settings.RATE_LIMITS:
        return
    start, retry_after = window(rate, time.time())
    if await peek(counter_key(scope, identity), start) >= rate.count:
        raise Throttled(retry_after)
