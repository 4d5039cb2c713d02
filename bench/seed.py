"""The scale bench's data, made in SQL with generate_series on a migrated database.

Every row is a function of its number, so the bench knows who is who without asking: user `i` is
`user{i}@example.com` with id md5('user' || i)::uuid; session `s` (ids md5('session' || s)) belongs
to user 1 + (s / 5) % USERS, its refresh token being `refresh-<session id>`. User 1 is the heavy
one (every 50th event), users 2 and 3 sign in, the last DUE_USERS are past their deletion grace.

Plain INSERT ... SELECT statements of CHUNK rows each, two at a time, into the tables as
migrations made them (every index in place), with synchronous_commit off and foreign-key
triggers skipped (session_replication_role = replica: the rows are consistent by construction).
"""

import hashlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

USERS = 1_000_000
SESSIONS = 5_000_000  # five per user: one live, two expired, two revoked (one in twenty recently)
EVENTS = 10_000_000  # over the last 400 days; every 50th the heavy user's (200,000)
COUNTERS = 1_000_000  # nine in ten older than a day
TASKS = 1_000_000  # finished; nine in ten longer ago than the 14 days purge keeps
DUE_USERS = 100
HEAVY_EVERY = 50
CHUNK = 250_000
WORKERS = 2  # connections inserting at once: one per core
PASSWORD = "correct horse battery staple"  # noqa: S105 - the seeded users' password

USER = "md5('user' || ({n}))::uuid"

USERS_SQL = f"""
INSERT INTO accounts_user (id, password, is_superuser, email, is_active, is_staff, created_at,
                           email_verified, delete_after)
SELECT {USER.format(n="i")}, %(hash)s, false, 'user' || i || '@example.com',
       i <= %(active)s, false, %(now)s - (i %% 1000 + 1) * interval '1 day', true,
       CASE WHEN i > %(active)s THEN %(now)s - interval '1 hour' END
FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS i
"""  # noqa: S608 - our own SQL; every value is a parameter

# kind: 0 live, 1-2 expired, 3 revoked long ago, 4 revoked long ago or (one in twenty) yesterday.
# Each session comes with its refresh token; one in five of the dead ones was rotated once.
SESSIONS_SQL = f"""
WITH numbered AS (
    SELECT s, s %% 5 AS kind, (s * 7919) %% 1000 AS h
    FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS s
), timed AS (
    SELECT s, kind, CASE
        WHEN kind = 0 THEN %(now)s - (h %% 29 + 1) * interval '1 day'
        WHEN kind IN (1, 2) THEN %(now)s - (31 + h %% 370) * interval '1 day'
        WHEN kind = 4 AND (s / 5) %% 20 = 0 THEN %(now)s - interval '3 days'
        ELSE %(now)s - (9 + h %% 20) * interval '1 day' END AS created
    FROM numbered
), made AS (
    INSERT INTO accounts_authsession (id, user_id, created_at, last_used_at, expires_at,
                                      revoked_at, revoked_reason, client_ip, user_agent)
    SELECT md5('session' || s)::uuid, {USER.format(n="1 + (s / 5) %% %(users)s")}, created,
           created + interval '1 hour', created + interval '30 days',
           CASE WHEN kind = 4 AND (s / 5) %% 20 = 0 THEN %(now)s - interval '1 day'
                WHEN kind >= 3 THEN created + interval '1 day' END,
           CASE WHEN kind >= 3 THEN 'signout' ELSE '' END,
           ('10.' || (s >> 16 & 255) || '.' || (s >> 8 & 255) || '.' || (s & 255))::inet,
           'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
    FROM timed
    RETURNING id, created_at, expires_at, revoked_at IS NOT NULL OR expires_at <= %(now)s AS dead
), first AS (
    INSERT INTO accounts_refreshtoken (token_hash, session_id, created_at, expires_at, used_at)
    SELECT encode(sha256(('refresh-' || id)::bytea), 'hex'), id, created_at, expires_at,
           CASE WHEN dead AND get_byte(uuid_send(id), 0) < 52 THEN created_at END
    FROM made
    RETURNING id, session_id, created_at, expires_at, used_at
)
INSERT INTO accounts_refreshtoken (token_hash, session_id, parent_id, created_at, expires_at)
SELECT encode(sha256(('rotated-' || session_id)::bytea), 'hex'), session_id, id, used_at,
       expires_at
FROM first WHERE used_at IS NOT NULL
"""  # noqa: S608 - our own SQL; every value is a parameter

EVENTS_SQL = f"""
INSERT INTO audit_authevent (id, type, user_id, at, ip, user_agent, session_id, detail)
SELECT e,
       CASE WHEN e %% 100000 = 7 THEN 'admin_action' WHEN e %% 4 = 1 THEN 'signin_failed'
            WHEN e %% 4 = 2 THEN 'signout' ELSE 'signin' END,
       CASE WHEN e %% {HEAVY_EVERY} = 0 THEN {USER.format(n="1")}
            ELSE {USER.format(n="1 + (e * 7) %% %(users)s")} END,
       %(now)s - interval '400 days' + e * (interval '400 days' / %(events)s),
       ('10.' || (e >> 16 & 255) || '.' || (e >> 8 & 255) || '.' || (e & 255))::inet,
       'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', NULL,
       CASE WHEN e %% 100000 = 7
            THEN jsonb_build_object('staff_id',
                 {USER.format(n="%(active)s + 1 + (e / 100000) %% %(due)s")}::text)
            WHEN e %% 4 IN (0, 3) THEN '{{"method": "password"}}'::jsonb ELSE '{{}}'::jsonb END
FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS e
"""  # noqa: S608 - our own SQL; every value is a parameter

COUNTERS_SQL = """
INSERT INTO accounts_throttlecounter (key, window_start, count)
SELECT 'signin-ip:' || substr(md5('counter' || k), 1, 40),
       %(epoch)s - CASE WHEN k %% 10 = 0 THEN k %% 3600 ELSE 2 * 86400 + k %% 86400 END,
       1 + k %% 5
FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS k
"""

TASKS_SQL = f"""
INSERT INTO django_tasks_database_dbtaskresult
    (id, status, args_kwargs, priority, task_path, queue_name, backend_name, run_after,
     enqueued_at, started_at, finished_at, return_value, exception_class_path, traceback,
     worker_ids)
SELECT md5('task' || t)::uuid, CASE WHEN t %% 50 = 1 THEN 'FAILED' ELSE 'SUCCESSFUL' END,
       jsonb_build_object('args', '[]'::jsonb, 'kwargs', jsonb_build_object(
           'user_id', {USER.format(n="1 + t %% %(users)s")}::text, 'kind', 'password_changed',
           'to', 'user' || (1 + t %% %(users)s) || '@example.com')),
       0, 'accounts.tasks.security_notice_send', 'default', 'default', '9999-01-01 00:00Z',
       at, at + interval '1 second', at + interval '2 seconds', NULL,
       CASE WHEN t %% 50 = 1 THEN 'smtplib.SMTPServerDisconnected' ELSE '' END,
       CASE WHEN t %% 50 = 1 THEN 'Traceback (most recent call last): ...' ELSE '' END,
       '["worker-1"]'::jsonb
FROM (SELECT t, %(now)s - CASE WHEN t %% 10 = 0 THEN (1 + t %% 13) * interval '1 day'
                                ELSE (15 + t %% 45) * interval '1 day' END AS at
      FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS t) AS numbered
"""  # noqa: S608 - our own SQL; every value is a parameter

TABLES = [
    "accounts_user",
    "accounts_authsession",
    "accounts_refreshtoken",
    "audit_authevent",
    "accounts_throttlecounter",
    "django_tasks_database_dbtaskresult",
]


@dataclass
class Seeded:
    seconds: float  # the inserts
    vacuum_seconds: float  # VACUUM (ANALYZE) afterwards
    rows: dict[str, int]
    all_visible: dict[str, float]  # the share of each table's pages VACUUM marked all-visible
    now: datetime


def user_id(n: int) -> str:
    """User n's id, as USERS_SQL makes it."""
    return str(uuid.UUID(hashlib.md5(f"user{n}".encode()).hexdigest()))  # noqa: S324 - not a secret


def session_id(s: int) -> str:
    """Session s's id, as SESSIONS_SQL makes it."""
    return str(uuid.UUID(hashlib.md5(f"session{s}".encode()).hexdigest()))  # noqa: S324 - not a secret


def chunks(total: int, first: int = 1) -> list[tuple[int, int]]:
    return [
        (low, min(low + CHUNK - 1, first + total - 1)) for low in range(first, first + total, CHUNK)
    ]


def seed(url: str, password_hash: str, say: Callable[[str], None] = print) -> Seeded:
    """Fill the migrated database at `url`, on WORKERS connections at once (a chunk each);
    answers how long it took and what it holds."""
    now = datetime.now(UTC)
    base = {
        "now": now,
        "hash": password_hash,
        "users": USERS,
        "active": USERS - DUE_USERS,
        "due": DUE_USERS,
        "events": EVENTS,
        "epoch": int(now.timestamp()) // 900 * 900,
    }
    steps = [
        ("users", USERS_SQL, chunks(USERS)),
        ("sessions", SESSIONS_SQL, chunks(SESSIONS, first=0)),
        ("events", EVENTS_SQL, chunks(EVENTS)),
        ("throttle counters", COUNTERS_SQL, chunks(COUNTERS)),
        ("task results", TASKS_SQL, chunks(TASKS)),
    ]
    jobs = [(what, sql, low, high) for what, sql, ranges in steps for low, high in ranges]
    totals = {what: ranges[-1][1] - ranges[0][0] + 1 for what, _, ranges in steps}
    done: Counter[str] = Counter()
    lock, local = threading.Lock(), threading.local()
    started = time.perf_counter()

    def insert(job: tuple[str, str, int, int]) -> None:
        what, sql, low, high = job
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(url, autocommit=True)
            local.connection.execute("SET synchronous_commit = off")
            local.connection.execute("SET session_replication_role = replica")
        local.connection.execute(sql, {**base, "low": low, "high": high})
        with lock:
            done[what] += high - low + 1
            elapsed = time.perf_counter() - started
            say(f"  {what}: {done[what]:,} of {totals[what]:,} ({elapsed:.0f} s)")

    with psycopg.connect(url, autocommit=True) as connection:
        # Autovacuum waits for the VACUUM below: an ANALYZE of its running meanwhile would hold
        # back what VACUUM may mark all-visible (and index-only scans would visit the heap).
        for table in TABLES:
            connection.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    pool = ThreadPoolExecutor(WORKERS)
    try:
        list(pool.map(insert, jobs))
    finally:
        # On Ctrl-C, nothing more is started (what runs dies with the cluster).
        pool.shutdown(wait=False, cancel_futures=True)
    with psycopg.connect(url, autocommit=True) as connection:
        for table in ("audit_authevent", "accounts_refreshtoken"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
            )
        seconds = time.perf_counter() - started
        say("  VACUUM (ANALYZE), as autovacuum would have left the tables")
        vacuum = time.perf_counter()
        for table in TABLES:
            connection.execute(f"VACUUM (ANALYZE) {table}")
            connection.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
        vacuum_seconds = time.perf_counter() - vacuum
        rows = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in TABLES
        }
        all_visible = {
            table: connection.execute(
                "SELECT relallvisible::float / greatest(relpages, 1) FROM pg_class "
                "WHERE oid = %s::regclass",
                [table],
            ).fetchone()[0]  # type: ignore[index]
            for table in TABLES
        }
    return Seeded(seconds, vacuum_seconds, rows, all_visible, now)
