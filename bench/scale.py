"""`make bench-scale`: the costs that only show at scale. A throwaway PostgreSQL tuned for a bench
(or BENCH_DATABASE_URL), migrated, then seeded in SQL (bench/seed.py: 1M users, 5M sessions of
which 4M expired or revoked, 10M events with one user holding 200k, 1M throttle counters, 1M
finished task results); then the hot requests under wrk, the plans of their queries, and
`manage.py purge` on all of it. Nothing is asserted: it measures and prints. The cluster is
removed at the end, also on failure or Ctrl-C.

    .venv/bin/python bench/scale.py [--wrk-seconds 5] [--rounds 3] [--connections 32]
                                    [--purge-args "--batch-size 5000"]
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale_load, scale_purge, seed
from bench.report import table
from bench.servers import django_shell, migrated_database, our_server
from tests.support.pgcluster import Cluster

ROOT = Path(__file__).resolve().parent.parent
# For a 2-core machine with 24 GiB: the seeded tables and their indexes (about 9 GB) mostly in
# memory, checkpoints rare. The base cluster already runs without fsync (a throwaway).
TUNING = [
    "shared_buffers = 4GB",
    "effective_cache_size = 12GB",
    "work_mem = 32MB",
    "maintenance_work_mem = 1GB",
    "max_wal_size = 16GB",
    "checkpoint_timeout = 30min",
    "wal_buffers = 64MB",
    "random_page_cost = 1.1",
    "shared_preload_libraries = 'auto_explain'",
    # Every lock wait over 10 ms is logged with how long it lasted (the purge's probe).
    "log_lock_waits = on",
    "deadlock_timeout = '10ms'",
]


@contextmanager
def postgresql() -> Iterator[tuple[str, Path | None]]:
    """The server's URL and its log (None for BENCH_DATABASE_URL's): a throwaway cluster made
    and removed here otherwise."""
    base_url = os.environ.get("BENCH_DATABASE_URL")
    if base_url:
        yield base_url, None
        return
    cluster = Cluster(ssl=False)
    try:
        cluster.create()
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(TUNING) + "\n")
        cluster.start()
        yield cluster.url(), cluster.log
    finally:
        cluster.remove()


def password_hash(url: str) -> str:
    """One real hash of the seeded password, made by the service's own hasher."""
    script = "from django.contrib.auth.hashers import make_password; print(make_password(%r))"
    printed = django_shell(url, script % seed.PASSWORD)
    return printed.strip().splitlines()[-1]


def hot_plans(url: str) -> dict[str, list[str]]:
    ids = {
        "heavy": seed.user_id(scale_load.HEAVY_USER),
        "reader": seed.user_id(scale_load.READER),
        "session": seed.session_id(5 * (scale_load.READER - 1)),
        "email": f"user{scale_load.SIGNER}@example.com",
        "refresh_token": scale_load.seeded_refresh_token(scale_load.REFRESH_FROM_USER - 1),
        "deep_offset": scale_load.DEEP_OFFSET,
    }
    made = subprocess.run(
        [sys.executable, "bench/hot_queries.py", json.dumps(ids)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(made.stdout)


def plan_summary(plan: str) -> str:
    """The top node, its buffers and the execution time of an EXPLAIN (ANALYZE, BUFFERS)."""
    lines = [line.strip() for line in plan.splitlines()]
    top = next((line for line in lines if "cost=" in line), "")
    node = top.split("  (cost=")[0].lstrip("-> ")
    buffers = next((line for line in lines if line.startswith("Buffers:")), "")
    execution = next((line for line in lines if line.startswith("Execution Time")), "")
    return (
        f"{node}; {buffers.removeprefix('Buffers: ')}; {execution.removeprefix('Execution Time: ')}"
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wrk-seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per request (median)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--purge-args", default="", help="arguments for manage.py purge")
    parser.add_argument(
        "--plans",
        type=Path,
        default=ROOT / "bench" / "results" / "scale-plans.txt",
        help="where the full EXPLAIN output goes",
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench-scale installs it)")
    # Ctrl-C (even when started with it ignored, in the background) and SIGTERM end the run
    # through the `finally` that removes the cluster.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    with postgresql() as (base_url, log):
        url = migrated_database(base_url)
        print(f"Seeding {url.rsplit('@', 1)[-1]} ...", flush=True)
        seeded = seed.seed(url, password_hash(url), say=lambda line: print(line, flush=True))
        print(f"Seeded in {seeded.seconds:.0f} s (VACUUM ANALYZE {seeded.vacuum_seconds:.0f} s):")
        print(
            table(
                ["table", "rows", "pages all-visible"],
                [[t, f"{n:,}", f"{seeded.all_visible[t]:.0%}"] for t, n in seeded.rows.items()],
            )
        )

        plans = hot_plans(url)
        args.plans.parent.mkdir(parents=True, exist_ok=True)
        with args.plans.open("w") as out:
            out.write(f"# make bench-scale, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n")
            for name, found in plans.items():
                out.write(f"## {name}\n\n" + "\n\n".join(found) + "\n\n")
        print(f"\nHot queries (EXPLAIN ANALYZE, BUFFERS; full plans in {args.plans}):")
        print(
            table(
                ["request", "query plan; buffers; time"],
                [[name, plan_summary(plan)] for name, found in plans.items() for plan in found],
            )
        )

        with our_server(url, pin=True) as server:
            figures = scale_load.rows(
                server, rounds=args.rounds, seconds=args.wrk_seconds, connections=args.connections
            )
        print(
            f"\nOne worker pinned to core 0, wrk -c{args.connections} on core 1, median of "
            f"{args.rounds} x {args.wrk_seconds} s:"
        )
        print(
            table(
                ["request", "req/s", "p50 ms", "p99 ms"],
                [[name, *found.cells()] for name, found in figures.items()],
            )
        )

        print("\nmanage.py purge " + args.purge_args + " ...", flush=True)
        purged = scale_purge.purge(url, log=log, arguments=shlex.split(args.purge_args))
        report_purge(purged, args.plans, log_read=log is not None)
    print(f"\nWhole run: {(time.perf_counter() - began) / 60:.1f} min")


def report_purge(purged: scale_purge.PurgeFigures, plans_file: Path, *, log_read: bool) -> None:
    print(purged.output[-3000:])
    latencies = sorted(purged.probe.latencies_ms)
    waits = purged.probe.lock_waits_ms
    probe_max = latencies[-1] if latencies else float("nan")
    probe_p99 = latencies[int(len(latencies) * 0.99)] if latencies else float("nan")
    print(
        table(
            ["purge", "figure"],
            [
                ["exit code", str(purged.returncode)],
                ["wall time", f"{purged.seconds:.1f} s"],
                ["peak memory (max RSS)", f"{purged.peak_mib:.0f} MiB"],
                ["a sign-in's writes meanwhile: count", f"{len(latencies):,}"],
                ["... p99 / longest", f"{probe_p99:.1f} / {probe_max:.1f} ms"],
                [
                    "... their lock waits over 10 ms: count, longest",
                    f"{len(waits)}, {max(waits, default=0):.0f} ms"
                    if log_read
                    else "— (not our server)",
                ],
                [
                    "purge's longest open transaction (sampled)",
                    f"{purged.probe.longest_transaction_s:.2f} s",
                ],
                ["most backends waiting on a lock at once", str(purged.probe.most_waiting)],
            ],
        )
    )
    if not purged.statements:
        return
    with plans_file.open("a") as out:
        out.write("## manage.py purge: each statement shape's slowest run (auto_explain)\n\n")
        for statement in purged.statements:
            out.write(f"-- {statement.count} run(s), {statement.total_ms / 1000:.1f} s in all\n")
            out.write(statement.slowest_plan + "\n\n")
    print(
        table(
            ["purge statement (literals as ?)", "runs", "total s", "slowest ms"],
            [
                [s.shape[:110], str(s.count), f"{s.total_ms / 1000:.1f}", f"{s.slowest_ms:.0f}"]
                for s in purged.statements[:25]
            ],
        )
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("Interrupted (any throwaway cluster was removed).") from None
