"""`make cluster-bench`: the service as `make cluster` runs it, measured through HAProxy with one,
two and three instances on this machine, and what a database connection through PgBouncer costs
against a direct one.

Everything shares this machine's cores: the instances, HAProxy, PgBouncer, PostgreSQL and wrk
(one thread). More instances than cores add no capacity; the rows say what the layers cost and
that nothing is lost spreading requests. Sign-ups pay production's Argon2 (`make run`'s
settings). Nothing is asserted: it measures and prints.

    .venv/bin/python bench/cluster.py [--seconds 10] [--signup-seconds 10] [--connections 32]
                                      [--signup-connections 8] [--rounds 200]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import SIGNUP_LUA, Figures, parse_wrk  # noqa: E402 - bench/run.py's wrk parsing

from tests.support.cluster import DATABASE, ClusterOptions, ServiceCluster  # noqa: E402
from tests.support.load import PASSWORD  # noqa: E402

SETTINGS = {
    # Throughput, not throttles; the access log off, as PERFORMANCE.md measures.
    "RATE_LIMITS": "off",
    "LOG_LEVEL": "warning",
}


def wrk(url: str, *, seconds: int, connections: int, header: str = "", script: str = "") -> Figures:
    """wrk with one thread, and a timeout long enough for a sign-up queued behind others'
    hashes (wrk's default, 2 s, would drop them from the figures)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    with tempfile.TemporaryDirectory() as directory:
        if script:
            lua = Path(directory) / "request.lua"
            lua.write_text(script)
            command += ["-s", str(lua)]
        if header:
            command += ["-H", header]
        result = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return parse_wrk(result.stdout)


def instances_in_service(cluster: ServiceCluster, count: int) -> None:
    """Through HAProxy's runtime API: the first `count` instances take requests, the others
    are put in maintenance (running, but sent nothing)."""
    assert cluster.haproxy is not None
    for number, instance in enumerate(cluster.instances, start=1):
        state = "ready" if number <= count else "maint"
        cluster.haproxy.command(f"set server app/{instance.name} state {state}")
    wanted = {i.name: "UP" if n <= count else "MAINT" for n, i in enumerate(cluster.instances, 1)}
    cluster.haproxy.wait_for_states(wanted)


def bearer(url: str) -> str:
    email = f"bench-{time.time_ns()}@example.com"
    answer = httpx.post(
        f"{url}/api/auth/signup", json={"email": email, "password": PASSWORD}, timeout=60
    )
    answer.raise_for_status()
    return f"Authorization: Bearer {answer.json()['access_token']}"


def connection_cost(url: str, rounds: int) -> tuple[float, float]:
    """Median milliseconds to connect (and close), and to run SELECT 1 on an open connection
    (each its own transaction: what every query of the service does through PgBouncer)."""
    connects = []
    for _ in range(rounds):
        started = time.perf_counter()
        psycopg.connect(url, autocommit=True).close()
        connects.append(time.perf_counter() - started)
    queries = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
        for _ in range(rounds * 10):
            started = time.perf_counter()
            connection.execute("SELECT 1").fetchone()
            queries.append(time.perf_counter() - started)
    return statistics.median(connects) * 1000, statistics.median(queries) * 1000


def row(label: str, figures: Figures) -> str:
    return f"| {label} | " + " | ".join(figures.cells()) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk run for /me")
    parser.add_argument("--signup-seconds", type=int, default=10, help="wrk run for sign-ups")
    parser.add_argument("--connections", type=int, default=32)
    # Beyond what the hashing slots and their queue hold, sign-ups are shed with 503 (by design).
    parser.add_argument("--signup-connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=200, help="connections opened per path")
    arguments = parser.parse_args()
    # Other work on the machine shows in every figure: say how busy it was.
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    options = ClusterOptions(settings="project", task_worker=False, environment=SETTINGS)
    cluster = ServiceCluster(options)
    print(f"Starting the cluster in {cluster.directory} ...", file=sys.stderr, flush=True)
    lines: list[str] = []
    try:
        cluster.start(report=lambda line: print(f"  {line}", file=sys.stderr, flush=True))
        header = bearer(cluster.url)
        lines += ["| through HAProxy | req/s | p50 ms | p99 ms |", "|---|---|---|---|"]
        for count in (1, 2, 3):
            instances_in_service(cluster, count)
            me = wrk(
                f"{cluster.url}/api/auth/me",
                seconds=arguments.seconds,
                connections=arguments.connections,
                header=header,
            )
            lines.append(row(f"`GET /api/auth/me`, {count} instance(s)", me))
            signups = wrk(
                f"{cluster.url}/api/auth/signup",
                seconds=arguments.signup_seconds,
                connections=arguments.signup_connections,
                script=SIGNUP_LUA % f"bench{count}-{time.time_ns()}-",
            )
            lines.append(row(f"`POST /api/auth/signup`, {count} instance(s)", signups))
        # One instance straight, without HAProxy: what the proxy hop costs.
        direct = wrk(
            f"{cluster.instances[0].url}/api/auth/me",
            seconds=arguments.seconds,
            connections=arguments.connections,
            header=header,
        )
        lines.append(row("`GET /api/auth/me`, 1 instance without HAProxy", direct))
        assert cluster.postgres is not None and cluster.pgbouncer is not None
        lines += ["", "| database connection | connect + close, ms | `SELECT 1`, ms |"]
        lines.append("|---|---|---|")
        for label, url in (
            ("direct, TLS (sslmode=require)", cluster.postgres.url(DATABASE, "sslmode=require")),
            ("direct, plain (sslmode=disable)", cluster.postgres.url(DATABASE, "sslmode=disable")),
            ("through PgBouncer (plain to it)", cluster.pgbouncer.url(DATABASE)),
        ):
            connect, query = connection_cost(url, arguments.rounds)
            lines.append(f"| {label} | {connect:.2f} | {query:.3f} |")
    finally:
        cluster.remove()
    command = f"make cluster-bench BENCH_ARGS='{' '.join(sys.argv[1:])}'"
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, `{command}`, load average before: {load}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
