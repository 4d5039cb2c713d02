"""The load: servers taking turns under wrk, the all-cores storms and burst, the scale-out runs."""

import asyncio
import os
import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import httpx

from bench.refresh import refresh_in_turns
from bench.servers import PASSWORD, Server, our_server, session_for, totp_user_for
from bench.wrk import SIGNUP_LUA, Figures, median_figures, post_script, wrk

# Sign-ins and sign-ups are bound by Argon2: wrk drives them with fewer connections.
HASHING_CONNECTIONS = 4
STORM_CLIENTS = 16
BURST_SIGNUPS = 200
# /health is probed every 50 ms during storms: 20 probes/s, hundreds of samples for a p99, far
# more often than any orchestrator probes, and light enough not to steal the hashers' CPU (every
# 10 ms, the probe client and its answers took about 8% of the machine from the hashing).
PROBE_INTERVAL = 0.05


def in_turns(
    servers: dict[str, Server],
    path: str,
    *,
    rounds: int,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    script: str = "",
) -> dict[str, Figures]:
    """Each server's figures for one path. The servers take turns, `rounds` times, so that drift
    on a shared machine hits all alike; each server's figures are its median round."""
    runs: dict[str, list[Figures]] = {name: [] for name in servers}
    for _ in range(rounds):
        for name, server in servers.items():
            header = (headers or {}).get(name, "")
            runs[name].append(
                wrk(
                    f"{server.url}{path}",
                    duration=seconds,
                    connections=connections,
                    script=script,
                    header=header,
                    pin=True,
                )
            )
    return {name: median_figures(figures) for name, figures in runs.items()}


def signin_figures(server: Server, email: str, seconds: int) -> Figures:
    """Sign-ins of one user, made here first."""
    session_for(server, email)
    body = f'{{"email":"{email}","password":"{PASSWORD}"}}'
    return wrk(
        f"{server.url}/api/auth/signin",
        script=post_script(body),
        duration=seconds,
        connections=HASHING_CONNECTIONS,
        pin=True,
    )


def per_request_rows(
    servers: dict[str, Server], database_url: str, *, rounds: int, seconds: int, connections: int
) -> dict[str, dict[str, Figures]]:
    """Figures per endpoint and server."""
    tokens = {
        name: session_for(server, f"reader-{secrets.token_hex(4)}@example.com")["access_token"]
        for name, server in servers.items()
    }
    bearers = {name: f"Authorization: Bearer {token}" for name, token in tokens.items()}
    turns = partial(in_turns, rounds=rounds, seconds=seconds, connections=connections)
    rows = {
        "GET /health": turns(servers, "/health"),
        "GET /health/ready": turns(servers, "/health/ready"),
        "GET /api/auth/me": turns(servers, "/api/auth/me", headers=bearers),
    }

    yardsticks = ("FastAPI", "DRF")
    ours_only = {name: server for name, server in servers.items() if name not in yardsticks}
    # A browser app's read: the access token in its HttpOnly cookie instead of the header.
    cookies = {name: f"Cookie: __Host-access={tokens[name]}" for name in ours_only}
    rows["GET /api/auth/me (cookie)"] = turns(ours_only, "/api/auth/me", headers=cookies)
    # The reset request enqueues one task row and answers: no lookup, no hashing. Only this
    # service has the route (the yardsticks have none).
    rows["POST /api/auth/password/reset"] = turns(
        ours_only, "/api/auth/password/reset", script=post_script('{"email":"nobody@example.com"}')
    )
    # Rotation: a token read and spent, a new one written, an access token signed.
    rows["POST /api/auth/refresh"] = refresh_in_turns(
        ours_only, database_url, rounds=rounds, seconds=seconds, connections=connections
    )

    email = f"signin-{secrets.token_hex(4)}@example.com"
    rows["POST /api/auth/signin"] = {"ours": signin_figures(servers["ours"], email, seconds)}
    if "stock" in servers:
        stock_email = email.replace("signin-", "signin-stock-")
        rows["POST /api/auth/signin"]["stock"] = signin_figures(
            servers["stock"], stock_email, seconds
        )
    rows["POST /api/auth/signup"] = {
        name: wrk(
            f"{server.url}/api/auth/signup",
            script=SIGNUP_LUA % secrets.token_hex(4),
            duration=seconds,
            connections=HASHING_CONNECTIONS,
            pin=True,
        )
        for name, server in servers.items()
    }
    return rows


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


@dataclass
class Storm:
    successes_per_second: float
    health: Figures  # /health probed meanwhile
    statuses: dict[int, int]


def storm(server: Server, concurrency: int, seconds: float, signin_email: str = "") -> Storm:
    """Sign-ups (or, given `signin_email`, sign-ins) from `concurrency` clients for `seconds`
    (all cores), with /health probed at the same time."""
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
    return Storm(created / elapsed, health, statuses)


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


@dataclass
class AllCores:
    raw_hashes_per_second: float
    signups: Storm
    signins: Storm
    totp_signins: Storm
    burst_statuses: dict[int, int]
    burst_peak_mib: float


def all_cores(ours_url: str, seconds: int) -> AllCores:
    """The raw hasher rate, storms of sign-ups, sign-ins and TOTP sign-ins against one unpinned
    worker, then a burst of simultaneous sign-ups against a fresh one (for its peak memory)."""
    raw = raw_hasher_rate(seconds)
    with our_server(ours_url, pin=False) as server:
        signups = storm(server, concurrency=STORM_CLIENTS, seconds=seconds)
        email = f"storm-signin-{secrets.token_hex(4)}@example.com"
        session_for(server, email)
        signins = storm(server, concurrency=STORM_CLIENTS, seconds=seconds, signin_email=email)
        # Sign-ins of a user with TOTP on answer the challenge: the same one hash, plus the
        # challenge row, so the rate should match the plain sign-ins'.
        totp_email = f"storm-totp-{secrets.token_hex(4)}@example.com"
        totp_user_for(server, ours_url, totp_email)
        totp_signins = storm(
            server, concurrency=STORM_CLIENTS, seconds=seconds, signin_email=totp_email
        )
    with our_server(ours_url, pin=False) as server:
        burst_statuses = burst(server, BURST_SIGNUPS)
        peak = server.peak_memory_mib()
    return AllCores(raw, signups, signins, totp_signins, burst_statuses, peak)


def scale_out(ours_url: str, *, seconds: int, connections: int) -> dict[int, list[Figures]]:
    """/health and /api/auth/me figures by worker count (1 and 2), unpinned."""
    figures = {}
    token = None
    for workers in (1, 2):
        with our_server(ours_url, pin=False, workers=workers) as server:
            token = (
                token
                or session_for(server, f"scale-{secrets.token_hex(4)}@example.com")["access_token"]
            )
            health = wrk(
                f"{server.url}/health", duration=seconds, connections=connections, pin=False
            )
            me = wrk(
                f"{server.url}/api/auth/me",
                header=f"Authorization: Bearer {token}",
                duration=seconds,
                connections=connections,
                pin=False,
            )
        figures[workers] = [health, me]
    return figures
