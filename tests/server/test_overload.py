"""A sign-up storm larger than the hasher can absorb, with the production Argon2 parameters:
the excess is shed fast with 503 + Retry-After, memory stays bounded, /health stays responsive."""

import asyncio
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.attack, pytest.mark.slow]
STORM = 200
CONCURRENCY = 2
QUEUE = 8
ARGON2_MIB = 100


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_signup_storm_is_shed_with_bounded_memory(live_server_factory):
    server = live_server_factory(
        RATE_LIMITS="off",
        TEST_PRODUCTION_HASHER="1",
        HASHER_CONCURRENCY=str(CONCURRENCY),
        HASHER_QUEUE=str(QUEUE),
    )
    assert server.process is not None
    baseline = peak_memory_mib(server.process.pid)
    health_latencies: list[float] = []
    stop = threading.Event()

    def probe_health() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not stop.is_set():
                started = time.perf_counter()
                assert client.get("/health").status_code == 200
                health_latencies.append(time.perf_counter() - started)
                time.sleep(0.02)

    async def storm() -> list[tuple[int, float, str]]:
        limits = httpx.Limits(max_connections=STORM)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:

            async def one(n: int) -> tuple[int, float, str]:
                started = time.perf_counter()
                response = await client.post(
                    "/api/auth/signup",
                    json={"email": f"storm{n}@example.com", "password": DEFAULT_PASSWORD},
                )
                elapsed = time.perf_counter() - started
                return response.status_code, elapsed, response.headers.get("retry-after", "")

            return await asyncio.gather(*(one(n) for n in range(STORM)))

    prober = threading.Thread(target=probe_health)
    prober.start()
    try:
        results = asyncio.run(storm())
    finally:
        stop.set()
        prober.join()

    statuses = [status for status, _, _ in results]
    shed = [(seconds, retry) for status, seconds, retry in results if status == 503]
    peak = peak_memory_mib(server.process.pid)
    health_p99 = statistics.quantiles(health_latencies, n=100)[98]
    print(
        f"\nstorm of {STORM}: {statuses.count(201)} x 201, {len(shed)} x 503; "
        f"503 answered in <= {max(s for s, _ in shed) * 1000:.0f} ms; "
        f"/health p50 {statistics.median(health_latencies) * 1000:.1f} ms, "
        f"p99 {health_p99 * 1000:.1f} ms over {len(health_latencies)} probes; "
        f"memory peak {peak:.0f} MiB (idle {baseline:.0f} MiB)"
    )
    assert set(statuses) <= {201, 503}
    assert statuses.count(201) >= CONCURRENCY + QUEUE
    assert shed, "nothing was shed: the storm did not exceed the hasher"
    assert all(retry == "1" for _, retry in shed)
    # Bounded: at most CONCURRENCY hashes in memory at once, plus the interpreter's own growth.
    assert peak - baseline < CONCURRENCY * ARGON2_MIB + 150
    assert health_p99 < 1.0
