"""`make bench`: this service beside its yardsticks (the old FastAPI stack and a DRF + simplejwt
service under gunicorn, both in ../shared/peer), and beside itself on stock Django (FAST_PATH=off).

Per-request figures: one worker pinned to core 0, wrk pinned to core 1, same PostgreSQL,
same duration. Sign-up storm, raw hasher rate and memory: every core. Nothing here is asserted:
it measures and prints. See docs/performance.md for what each row means.

    .venv/bin/python bench/run.py [--duration 10] [--wrk-seconds 5] [--rounds 5] [--connections 32]
                                     [--no-peer] [--no-stock]
"""

import argparse
import shutil
import sys
from pathlib import Path

# Run as a file (`python bench/run.py`): the repository root is not on the path until here, and
# this script's own modules are imported from it as the `bench` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load, report, servers
from bench.wrk import LOAD_CPU


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per storm")
    parser.add_argument("--wrk-seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="wrk runs per endpoint and server")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--no-peer", action="store_true", help="skip both yardsticks")
    parser.add_argument(
        "--no-stock", action="store_true", help="skip this service on stock Django (FAST_PATH=off)"
    )
    parser.add_argument(
        "--no-production",
        action="store_true",
        help="skip this service as production runs it (JSON access log at INFO, metrics on)",
    )
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="per-request table only, ours with logs off and as production runs (a quick look)",
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it)")

    with servers.postgresql() as (base_url, postgresql):
        ours_url = servers.migrated_database(base_url)
        print(f"PostgreSQL: {postgresql}")
        print(
            f"wrk: -t1 -c{args.connections} -d{args.wrk_seconds}s "
            f"(sign-up/sign-in: -c{load.HASHING_CONNECTIONS}), "
            f"median of {args.rounds} rounds, the servers taking turns (ratios: the median of "
            "the rounds' ratios); "
            f"server on core {servers.SERVER_CPU}, wrk on core {LOAD_CPU}\n"
        )

        with servers.side_by_side(
            ours_url,
            base_url,
            production=not args.no_production,
            stock=not (args.no_stock or args.only_ours),
            peer=not (args.no_peer or args.only_ours),
        ) as side_by_side:
            figures = load.per_request_rows(
                side_by_side,
                ours_url,
                rounds=args.rounds,
                seconds=args.wrk_seconds,
                connections=args.connections,
            )
        print(report.per_request_table(figures))
        if not args.no_production:
            print()
            print(report.production_table(figures))
        if args.only_ours:
            return

        all_cores = load.all_cores(ours_url, args.duration)
        print()
        print(report.all_cores_table(all_cores))

        scale = load.scale_out(ours_url, seconds=args.wrk_seconds, connections=args.connections)
        print()
        print(report.scale_out_table(scale))


if __name__ == "__main__":
    main()
