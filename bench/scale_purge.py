"""`manage.py purge` on the seeded data: its wall time and peak memory, the longest a sign-in's
writes waited meanwhile, the longest transaction it held open, and the plan of every statement
it ran (auto_explain, from the throwaway cluster's log).

While the purge runs, a probe does in a loop what a sign-in writes, each time in one transaction:
the throttle counter of a returning client (one of the seeded day-old counters, which the purge
wants to delete), a session with its refresh token, and the `signin` event. A sampler reads
pg_stat_activity every 50 ms for the purge's oldest open transaction and for backends waiting on
a lock.
"""

import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg

from bench.seed import COUNTERS, user_id

ROOT = Path(__file__).resolve().parent.parent
PROBE_USER = 4
APPLICATION = "bench-purge"
AUTO_EXPLAIN = (
    "-c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on "
    "-c auto_explain.log_buffers=on -c auto_explain.log_triggers=on"
)


@dataclass
class Probe:
    latencies_ms: list[float] = field(default_factory=list)
    longest_transaction_s: float = 0.0  # the purge's, as sampled
    most_waiting: int = 0  # backends waiting on a lock at once, as sampled
    backend: int = 0  # the probe's server process, to find its lock waits in the log
    lock_waits_ms: list[float] = field(default_factory=list)  # from the log (log_lock_waits)


@dataclass
class PurgeFigures:
    seconds: float
    peak_mib: float
    returncode: int
    output: str
    probe: Probe
    statements: list["Statement"]


@dataclass
class Statement:
    shape: str  # the query text with its literals taken out
    count: int = 0
    total_ms: float = 0.0
    slowest_ms: float = 0.0
    slowest_plan: str = ""


PROBE_SQL = [
    (
        "INSERT INTO accounts_throttlecounter (key, window_start, count) VALUES (%s, %s, 1) "
        "ON CONFLICT (key) DO UPDATE SET count = CASE WHEN accounts_throttlecounter.window_start "
        "= excluded.window_start THEN accounts_throttlecounter.count + 1 ELSE excluded.count END, "
        "window_start = excluded.window_start"
    ),
    (
        "INSERT INTO accounts_authsession (id, user_id, created_at, last_used_at, expires_at, "
        "revoked_reason, client_ip, user_agent) VALUES (gen_random_uuid(), %s, now(), now(), "
        "now() + interval '30 days', '', '127.0.0.1', 'probe') RETURNING id"
    ),
    (
        "INSERT INTO accounts_refreshtoken (token_hash, session_id, created_at, expires_at) "
        "VALUES (encode(sha256(gen_random_uuid()::text::bytea), 'hex'), %s, now(), "
        "now() + interval '30 days')"
    ),
    (
        "INSERT INTO audit_authevent (type, user_id, at, ip, user_agent, session_id, detail) "
        "VALUES ('signin', %s, now(), '127.0.0.1', 'probe', %s, '{\"method\": \"password\"}')"
    ),
]


def probe_loop(url: str, probe: Probe, stop: threading.Event) -> None:
    who = user_id(PROBE_USER)
    with psycopg.connect(url) as connection:
        probe.backend = connection.info.backend_pid
        number = 0
        while not stop.is_set():
            number += 1
            # A day-old counter (k % 10 != 0), a different one each time, spread over the keys.
            k = 1 + (number * 7919) % COUNTERS
            k += 1 if k % 10 == 0 else 0
            key = f"signin-ip:{_md5(f'counter{k}')[:40]}"
            started = time.perf_counter()
            with connection.transaction():
                connection.execute(PROBE_SQL[0], [key, int(time.time()) // 900 * 900])
                session = connection.execute(PROBE_SQL[1], [who]).fetchone()[0]  # type: ignore[index]
                connection.execute(PROBE_SQL[2], [session])
                connection.execute(PROBE_SQL[3], [who, session])
            probe.latencies_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the seed's keys


def sample_loop(url: str, probe: Probe, stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        while not stop.is_set():
            oldest, waiting = connection.execute(
                "SELECT coalesce(max(extract(epoch FROM now() - xact_start)) FILTER "
                "(WHERE application_name = %s), 0), count(*) FILTER (WHERE wait_event_type = "
                "'Lock') FROM pg_stat_activity WHERE datname = current_database()",
                [APPLICATION],
            ).fetchone()  # type: ignore[misc]
            probe.longest_transaction_s = max(probe.longest_transaction_s, float(oldest))
            probe.most_waiting = max(probe.most_waiting, int(waiting))
            time.sleep(0.05)


def purge(url: str, *, log: Path | None, arguments: list[str]) -> PurgeFigures:
    """Run `manage.py purge` against `url` with the probe and sampler; `log`, the cluster's
    server log (None: a server whose log is not ours, no plans)."""
    options = f"&options={quote(AUTO_EXPLAIN)}" if log else ""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "ENVIRONMENT"))},
        "DATABASE_URL": f"{url}?application_name={APPLICATION}{options}",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
    }
    log_start = log.stat().st_size if log else 0
    probe, stop = Probe(), threading.Event()
    threads = [
        threading.Thread(target=probe_loop, args=(url, probe, stop), daemon=True),
        threading.Thread(target=sample_loop, args=(url, probe, stop), daemon=True),
    ]
    for thread in threads:
        thread.start()
    time.sleep(1)  # the probe's baseline before the purge starts
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "purge", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    statements = plans(log, log_start) if log else []
    if log:
        probe.lock_waits_ms = lock_waits(log, log_start, probe.backend)
    return PurgeFigures(
        seconds, usage.ru_maxrss / 1024, process.returncode, output.strip(), probe, statements
    )


def lock_waits(log: Path, start: int, backend: int) -> list[float]:
    """How long each of `backend`'s lock waits lasted, from the lines log_lock_waits writes
    (for waits longer than deadlock_timeout) when the lock is granted."""
    with log.open(encoding="utf-8", errors="replace") as file:
        file.seek(start)
        return [
            float(found[1])
            for line in file
            if f"[{backend}]" in line
            and (found := re.search(r"acquired \w+ on .* after ([\d.]+) ms", line))
        ]


ENTRY = re.compile(r"^\S+ \S+ \S+ \[\d+\] ", re.MULTILINE)
LITERALS = [
    (re.compile(r"'[^']*'"), "?"),
    (re.compile(r"\b\d+(\.\d+)?\b"), "?"),
    (re.compile(r"\((\?, )+\?\)"), "(?...)"),
]


def plans(log: Path, start: int) -> list[Statement]:
    """The purge's statements from auto_explain's entries in the server log, grouped by shape:
    how many, their total and slowest time, and the slowest one's plan."""
    with log.open(encoding="utf-8", errors="replace") as file:
        file.seek(start)
        text = file.read()
    grouped: dict[str, Statement] = defaultdict(lambda: Statement(""))
    for entry in ENTRY.split(text):
        found = re.search(
            r"duration: ([\d.]+) ms\s+plan:\s*\n\s*Query Text: (.*?)\n(.*)", entry, re.S
        )
        if not found:
            continue
        milliseconds, query, plan = float(found[1]), found[2].strip(), found[3]
        shape = query
        for pattern, replacement in LITERALS:
            shape = pattern.sub(replacement, shape)
        statement = grouped[shape]
        statement.shape = shape
        statement.count += 1
        statement.total_ms += milliseconds
        if milliseconds >= statement.slowest_ms:
            statement.slowest_ms = milliseconds
            statement.slowest_plan = f"{query[:2000]}\n{plan.rstrip()}"
    return sorted(grouped.values(), key=lambda s: s.total_ms, reverse=True)
