"""`make bench`: this service beside its yardsticks (the old FastAPI stack and a DRF + simplejwt
service under gunicorn, both in ../shared/peer), and beside itself on stock Django (FAST_PATH=off).

Per-request figures: one worker pinned to core 0, wrk pinned to core 1, same PostgreSQL,
same duration. Sign-up storm, raw hasher rate and memory: every core. Nothing here is asserted:
it measures and prints. See docs/performance.md for what each row means.

    .venv/bin/python bench/run.py [--duration 10] [--wrk-seconds 5] [--rounds 3] [--connections 32]
                                     [--no-peer] [--no-stock]
"""

import argparse
import asyncio
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgcluster import Cluster, free_port, start_cluster  # noqa: E402

PEER = ROOT.parent / "shared" / "peer" / "run"
DRF_PEER = ROOT.parent / "shared" / "peer" / "drf" / "run"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark user's password
# One key for every server of a run: a token made on one is valid on the next.
SECRET_KEY = "bench-" + secrets.token_urlsafe(48)
SERVER_CPU = "0"
LOAD_CPU = "1"
# /health is probed every 50 ms during storms: 20 probes/s, hundreds of samples for a p99, far
# more often than any orchestrator probes, and light enough not to steal the hashers' CPU (every
# 10 ms, the probe client and its answers took about 8% of the machine from the hashing).
PROBE_INTERVAL = 0.05


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    def cells(self) -> list[str]:
        rate = f"{self.requests_per_second:,.0f}"
        if self.errors:  # a figure made of error answers is no figure: say so in the cell
            rate += f" ({self.errors} non-2xx!)"
        return [rate, f"{self.p50_ms:.2f}", f"{self.p99_ms:.2f}"]


def parse_wrk(output: str) -> Figures:
    def milliseconds(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Figures(rps, p50, p99, int(errors.group(1)) if errors else 0)


LUA_HEADERS = 'wrk.headers["Content-Type"] = "application/json"\n'
SIGNUP_LUA = (
    LUA_HEADERS
    + 'wrk.method = "POST"\ncounter = 0\nprefix = "%s"\n'
    + "request = function()\n  counter = counter + 1\n"
    + '  return wrk.format(nil, nil, nil, string.format(\'{"email":"%%s%%d@example.com",'
    + '"password":"'
    + PASSWORD
    + "\"}', prefix, counter))\nend\n"
)


def wrk(
    url: str, *, duration: int, connections: int, script: str = "", header: str = "", pin: bool
) -> Figures:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    if script:
        command += ["-s", lua.name]
    if header:
        command += ["-H", header]
    if pin:
        command = ["taskset", "-c", LOAD_CPU, *command]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    return parse_wrk(output)


class Server:
    """A uvicorn process (ours or the yardstick's), stopped on exit."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 300  # the yardstick builds its venv on first use
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("server did not start")

    def peak_memory_mib(self) -> float:
        total = 0.0
        for pid in [self.process.pid, *children(self.process.pid)]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def our_server(database_url: str, *, pin: bool, workers: int = 1, **env: str) -> Server:
    port = free_port()
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "project.asgi:application",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        # As `make run` serves (project/serve.py).
        "--no-proxy-headers",
        "--no-server-header",
        "--http",
        "project.protocol:BoundedHttpToolsProtocol",
        "--log-level",
        "warning",
    ]
    if pin:
        command = ["taskset", "-c", SERVER_CPU, *command]
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "ENVIRONMENT"))},
        "DATABASE_URL": database_url,
        "RATE_LIMITS": "off",
        # As production queues email: a request that sends mail only inserts a task row.
        "TASKS_BACKEND": "database",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": SECRET_KEY,
        **env,
    }
    return Server(command, environment, port)


def peer_server(script: Path, database_url: str) -> Server:
    port = free_port()
    return Server(
        [str(script), str(port), database_url, SERVER_CPU],
        {**os.environ, "LOG_LEVEL": "warning", "SECRET_KEY": SECRET_KEY},
        port,
    )


def session_for(server: Server, email: str) -> dict:
    response = httpx.post(
        f"{server.url}/api/auth/signup", json={"email": email, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def totp_user_for(server: Server, email: str) -> None:
    """A user with TOTP on: their sign-ins answer the challenge (the password hashed once)."""
    import pyotp

    bearer = {"Authorization": f"Bearer {session_for(server, email)['access_token']}"}
    setup = httpx.post(f"{server.url}/api/auth/mfa/totp/setup", headers=bearer, timeout=30)
    setup.raise_for_status()
    code = pyotp.TOTP(setup.json()["secret"]).now()
    httpx.post(
        f"{server.url}/api/auth/mfa/totp/confirm", json={"code": code}, headers=bearer, timeout=30
    ).raise_for_status()


def median_figures(runs: list[Figures]) -> Figures:
    """The run with the median rate (its latencies with it): one noisy run moves nothing."""
    ranked = sorted(runs, key=lambda figures: figures.requests_per_second)
    return ranked[len(ranked) // 2]


def per_request_rows(
    servers: dict[str, Server], args: argparse.Namespace
) -> dict[str, dict[str, Figures]]:
    """Figures per endpoint and server. The servers take turns on each endpoint, `args.rounds`
    times, so that drift on a shared machine hits both alike; each cell is the median round."""
    common = {"duration": args.wrk_seconds, "connections": args.connections, "pin": True}
    tokens = {
        name: session_for(server, f"reader-{secrets.token_hex(4)}@example.com")["access_token"]
        for name, server in servers.items()
    }
    endpoints = {
        "GET /health": ("/health", lambda name: ""),
        "GET /health/ready": ("/health/ready", lambda name: ""),
        "GET /api/auth/me": ("/api/auth/me", lambda name: f"Authorization: Bearer {tokens[name]}"),
    }
    rows: dict[str, dict[str, Figures]] = {}
    for row, (path, header) in endpoints.items():
        runs: dict[str, list[Figures]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, server in servers.items():
                runs[name].append(wrk(f"{server.url}{path}", header=header(name), **common))
        rows[row] = {name: median_figures(figures) for name, figures in runs.items()}

    # The reset request enqueues one task row and answers: no lookup, no hashing. Only this
    # service has the route (the yardsticks have none).
    reset_script = (
        LUA_HEADERS + 'wrk.method = "POST"\nwrk.body = \'{"email":"nobody@example.com"}\'\n'
    )
    yardsticks = ("FastAPI", "DRF")
    ours_only = {name: server for name, server in servers.items() if name not in yardsticks}
    reset_runs: dict[str, list[Figures]] = {name: [] for name in ours_only}
    for _ in range(args.rounds):
        for name, server in ours_only.items():
            reset_runs[name].append(
                wrk(f"{server.url}/api/auth/password/reset", script=reset_script, **common)
            )
    rows["POST /api/auth/password/reset"] = {
        name: median_figures(figures) for name, figures in reset_runs.items()
    }

    hashing = {"duration": args.wrk_seconds, "connections": 4, "pin": True}
    ours = servers["ours"]
    email = f"signin-{secrets.token_hex(4)}@example.com"
    session_for(ours, email)
    body = f'{{"email":"{email}","password":"{PASSWORD}"}}'
    script = LUA_HEADERS + f"wrk.method = \"POST\"\nwrk.body = '{body}'\n"
    rows["POST /api/auth/signin"] = {
        "ours": wrk(f"{ours.url}/api/auth/signin", script=script, **hashing)
    }
    if "stock" in servers:
        stock = servers["stock"]
        session_for(stock, email.replace("signin-", "signin-stock-"))
        stock_body = body.replace("signin-", "signin-stock-")
        stock_script = LUA_HEADERS + f"wrk.method = \"POST\"\nwrk.body = '{stock_body}'\n"
        rows["POST /api/auth/signin"]["stock"] = wrk(
            f"{stock.url}/api/auth/signin", script=stock_script, **hashing
        )
    rows["POST /api/auth/signup"] = {
        name: wrk(
            f"{server.url}/api/auth/signup", script=SIGNUP_LUA % secrets.token_hex(4), **hashing
        )
        for name, server in servers.items()
    }
    return rows


OTHERS = {
    "metrics": "METRICS_TOKEN set",
    "stock": "FAST_PATH=off",
    "FastAPI": "FastAPI (yardstick)",
    "DRF": "DRF + gunicorn (yardstick)",
}


def per_request_table(figures: dict[str, dict[str, Figures]]) -> str:
    """Ours in full, every other server as req/s and p99, and our ratio to each."""
    present = [name for name in OTHERS if any(name in row for row in figures.values())]
    headers = ["one worker, pinned", "ours req/s", "p50 ms", "p99 ms"]
    headers += [f"{OTHERS[name]} req/s (p99 ms)" for name in present]
    headers += [f"ours/{name}" for name in present]
    rows = []
    for endpoint, by_server in figures.items():
        ours = by_server["ours"]
        cells, ratios = [], []
        for name in present:
            other = by_server.get(name)
            if other is None:
                cells.append("—")
                ratios.append("—")
                continue
            rate = f"{other.requests_per_second:,.0f}"
            if other.errors:
                rate += f" ({other.errors} non-2xx!)"
            cells.append(f"{rate} ({other.p99_ms:.0f})")
            ratios.append(f"{ours.requests_per_second / other.requests_per_second:.2f}x")
        rows.append([endpoint, *ours.cells(), *cells, *ratios])
    return table(headers, rows)


def raw_hasher_rate(seconds: float) -> float:
    """Hashes per second of Django's Argon2 parameters on every core, in this process."""
    from argon2.low_level import Type, hash_secret

    def one(_: int) -> None:
        hash_secret(
            PASSWORD.encode(),
            os.urandom(16),
            time_cost=2,
            memory_cost=102_400,
            parallelism=8,
            hash_len=32,
            type=Type.ID,
        )

    cores = len(os.sched_getaffinity(0))
    with ThreadPoolExecutor(cores) as pool:
        list(pool.map(one, range(cores)))  # warm up
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            list(pool.map(one, range(cores)))
            done += cores
    return done / (time.perf_counter() - started)


def storm(
    server: Server, concurrency: int, seconds: float, signin_email: str = ""
) -> tuple[float, Figures, dict[int, int]]:
    """Sign-ups (or, given `signin_email`, sign-ins) from `concurrency` clients for `seconds`
    (all cores), with /health probed at the same time; returns successes per second, /health
    figures and the status counts."""
    statuses: dict[int, int] = {}
    probe: list[float] = []

    async def run() -> int:
        stop = time.monotonic() + seconds
        created = 0
        limits = httpx.Limits(max_connections=concurrency + 1)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:

            async def signer(worker: int) -> None:
                nonlocal created
                n = 0
                while time.monotonic() < stop:
                    n += 1
                    email = signin_email or f"storm{worker}-{n}-{secrets.token_hex(3)}@example.com"
                    response = await client.post(
                        "/api/auth/signin" if signin_email else "/api/auth/signup",
                        json={"email": email, "password": PASSWORD},
                    )
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code in (200, 201):
                        created += 1
                    elif response.status_code == 503:
                        await asyncio.sleep(float(response.headers.get("retry-after", "1")))

            async def prober() -> None:
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    await client.get("/health")
                    probe.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(PROBE_INTERVAL)

            await asyncio.gather(prober(), *(signer(w) for w in range(concurrency)))
        return created

    started = time.perf_counter()
    created = asyncio.run(run())
    # Requests in flight at the deadline still finish: divide by the time really taken.
    elapsed = time.perf_counter() - started
    cut = statistics.quantiles(probe, n=100)
    health = Figures(len(probe) / elapsed, statistics.median(probe), cut[98])
    return created / elapsed, health, statuses


def burst(server: Server, count: int) -> dict[int, int]:
    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/api/auth/signup",
                        json={
                            "email": f"burst{n}-{secrets.token_hex(3)}@example.com",
                            "password": PASSWORD,
                        },
                    )
                    for n in range(count)
                )
            )
        return [r.status_code for r in responses]

    counts: dict[int, int] = {}
    for status in asyncio.run(run()):
        counts[status] = counts.get(status, 0) + 1
    return counts


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return (
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def create_database(cluster_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per storm")
    parser.add_argument("--wrk-seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per endpoint and server")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--no-peer", action="store_true", help="skip both yardsticks")
    parser.add_argument(
        "--no-stock", action="store_true", help="skip this service on stock Django (FAST_PATH=off)"
    )
    parser.add_argument(
        "--no-metrics",
        action="store_true",
        help="skip this service with metrics on (METRICS_TOKEN set, multiprocess mode)",
    )
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="per-request table only, ours with and without metrics (a quick look)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it)")

    cluster: Cluster | None = None
    base_url = os.environ.get("BENCH_DATABASE_URL")
    if not base_url:
        cluster = start_cluster(ssl=False)
        base_url = cluster.url()
    try:
        ours_url = create_database(base_url, "bench_service")
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            check=False,
            env={**os.environ, "DATABASE_URL": ours_url, "ENVIRONMENT": "development"},
        )
        if migrate.returncode:
            raise SystemExit("migrate failed")
        print(f"PostgreSQL: {cluster.version() if cluster else base_url.split('@')[-1]}")
        print(
            f"wrk: -t1 -c{args.connections} -d{args.wrk_seconds}s (sign-up/sign-in: -c4), "
            f"median of {args.rounds} rounds, the servers taking turns; "
            f"server on core {SERVER_CPU}, wrk on core {LOAD_CPU}\n"
        )

        servers = {"ours": our_server(ours_url, pin=True)}
        metrics_directory = tempfile.mkdtemp(prefix="bench-metrics-")
        if args.only_ours:
            args.no_stock = args.no_peer = True
        try:
            if not args.no_metrics:
                # As `make run` serves with METRICS_TOKEN: values in memory-mapped files.
                servers["metrics"] = our_server(
                    ours_url,
                    pin=True,
                    METRICS_TOKEN=secrets.token_urlsafe(16),
                    PROMETHEUS_MULTIPROC_DIR=metrics_directory,
                )
            if not args.no_stock:
                servers["stock"] = our_server(ours_url, pin=True, FAST_PATH="off")
            if not args.no_peer and PEER.exists():
                servers["FastAPI"] = peer_server(PEER, create_database(base_url, "bench_peer"))
            if not args.no_peer and DRF_PEER.exists():
                servers["DRF"] = peer_server(DRF_PEER, create_database(base_url, "bench_drf"))
            figures = per_request_rows(servers, args)
        finally:
            for server in servers.values():
                server.stop()
            shutil.rmtree(metrics_directory, ignore_errors=True)
        print(per_request_table(figures))
        if args.only_ours:
            return

        raw = raw_hasher_rate(args.duration)
        server = our_server(ours_url, pin=False)
        try:
            signup_rate, health, statuses = storm(server, concurrency=16, seconds=args.duration)
            email = f"storm-signin-{secrets.token_hex(4)}@example.com"
            session_for(server, email)
            signin_rate, signin_health, signin_statuses = storm(
                server, concurrency=16, seconds=args.duration, signin_email=email
            )
            # Sign-ins of a user with TOTP on answer the challenge: the same one hash, plus the
            # challenge row, so the rate should match the plain sign-ins'.
            totp_email = f"storm-totp-{secrets.token_hex(4)}@example.com"
            totp_user_for(server, totp_email)
            totp_rate, _, totp_statuses = storm(
                server, concurrency=16, seconds=args.duration, signin_email=totp_email
            )
        finally:
            server.stop()
        server = our_server(ours_url, pin=False)
        try:
            burst_statuses = burst(server, 200)
            peak = server.peak_memory_mib()
        finally:
            server.stop()
        print()
        print(
            table(
                ["all cores", "figure"],
                [
                    ["raw Argon2 rate (Django's parameters, every core)", f"{raw:.1f} hashes/s"],
                    [
                        "sign-ups/s under a 16-client storm",
                        f"{signup_rate:.1f} ({signup_rate / raw:.0%} of raw)",
                    ],
                    ["storm answers", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))],
                    [
                        "GET /health during the storm, p50 / p99",
                        f"{health.p50_ms:.1f} / {health.p99_ms:.1f} ms",
                    ],
                    [
                        "sign-ins/s under a 16-client storm (one user)",
                        f"{signin_rate:.1f} ({signin_rate / raw:.0%} of raw)",
                    ],
                    [
                        "sign-in storm answers",
                        ", ".join(f"{k}: {v}" for k, v in sorted(signin_statuses.items())),
                    ],
                    [
                        "GET /health during the sign-in storm, p50 / p99",
                        f"{signin_health.p50_ms:.1f} / {signin_health.p99_ms:.1f} ms",
                    ],
                    [
                        "sign-ins/s with TOTP on (challenge answers), 16 clients",
                        f"{totp_rate:.1f} ({totp_rate / raw:.0%} of raw), "
                        + ", ".join(f"{k}: {v}" for k, v in sorted(totp_statuses.items())),
                    ],
                    [
                        "200 concurrent sign-ups: answers",
                        ", ".join(f"{k}: {v}" for k, v in sorted(burst_statuses.items())),
                    ],
                    ["200 concurrent sign-ups: peak memory (RSS high-water)", f"{peak:.0f} MiB"],
                ],
            )
        )

        scale = []
        token = None
        for workers in (1, 2):
            server = our_server(ours_url, pin=False, workers=workers)
            try:
                token = (
                    token
                    or session_for(server, f"scale-{secrets.token_hex(4)}@example.com")[
                        "access_token"
                    ]
                )
                common = {
                    "duration": args.wrk_seconds,
                    "connections": args.connections,
                    "pin": False,
                }
                health_figures = wrk(f"{server.url}/health", **common)
                me_figures = wrk(
                    f"{server.url}/api/auth/me", header=f"Authorization: Bearer {token}", **common
                )
            finally:
                server.stop()
            scale.append(
                [f"{workers} worker(s), unpinned", *health_figures.cells(), *me_figures.cells()]
            )
        print()
        print(
            table(
                ["scale out", "/health req/s", "p50 ms", "p99 ms", "/me req/s", "p50 ms", "p99 ms"],
                scale,
            )
        )
    finally:
        if cluster is not None:
            cluster.remove()


if __name__ == "__main__":
    main()
