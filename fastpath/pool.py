"""The pool's connection check, without a round trip for a connection lent a moment ago."""

import time
import weakref
from typing import Any

# A pooled connection lent less than this many seconds ago is trusted without a round trip; an
# older one is checked with psycopg_pool's own check before it is lent again.
TRUSTED_FOR_SECONDS = 2.0
lent_at: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()


def connection_check(connection: Any) -> None:
    """The pool's `check` callback (psycopg_pool's own check is a round trip on every
    checkout). A connection lent a moment ago skips the round trip, which otherwise costs as much
    as the query the request makes; a broken one still fails its query, and Django then discards
    it. The time is taken here, at checkout, not on return: a `reset` callback would send every
    returned connection through the pool's worker thread, a thread hop per request."""
    if connection.closed or connection.broken:
        raise ConnectionError("connection is closed")
    now = time.monotonic()
    last = lent_at.get(connection)
    if last is None or now - last > TRUSTED_FOR_SECONDS:
        from psycopg_pool import ConnectionPool

        ConnectionPool.check_connection(connection)
    lent_at[connection] = now
