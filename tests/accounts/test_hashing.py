"""The configured hasher (Argon2, production parameters), bounded and off the event loop."""

import asyncio
import time

import pytest
from django.contrib.auth.hashers import identify_hasher

from accounts import hashing
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
PRODUCTION_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.fixture
def real_hasher(settings):
    """Production hasher settings, and a hasher pool rebuilt from the settings of the test."""
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    hashing.hasher_pool.cache_clear()
    yield settings
    hashing.hasher_pool.cache_clear()


async def test_production_hasher_is_argon2_with_djangos_parameters(real_hasher):
    encoded = await hashing.password_hash(DEFAULT_PASSWORD)
    hasher = identify_hasher(encoded)
    assert hasher.algorithm == "argon2"
    assert "m=102400,t=2,p=8" in encoded
    assert await hashing.password_verify(DEFAULT_PASSWORD, encoded)
    assert not await hashing.password_verify("wrong", encoded)


def test_memory_budget_lowers_the_hashes_run_at_once(real_hasher):
    assert hashing.hash_memory_mib() == 100  # Argon2 with Django's parameters
    assert hashing.hashing_slots(concurrency=8, memory_budget_mib=250) == 2
    assert hashing.hashing_slots(concurrency=1, memory_budget_mib=250) == 1
    real_hasher.HASHER_CONCURRENCY = 8
    real_hasher.HASHER_MEMORY_MIB = 300
    assert hashing.hasher_pool().concurrency == 3


def test_memory_budget_too_small_for_one_hash_is_a_configuration_error(real_hasher):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"HASHER_MEMORY_MIB .*\(100 MiB"):
        hashing.hashing_slots(concurrency=2, memory_budget_mib=99)


def test_a_hasher_that_is_not_memory_hard_keeps_its_concurrency(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert hashing.hashing_slots(concurrency=4, memory_budget_mib=1) == 4


async def test_hashing_runs_off_the_event_loop(real_hasher):
    """While a hash runs, the loop keeps ticking: no tick waits for a whole hash (~100 ms+)."""
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    stop = asyncio.Event()
    ticking = asyncio.create_task(ticker(stop))
    started = time.perf_counter()
    await asyncio.gather(*(hashing.password_hash(DEFAULT_PASSWORD) for _ in range(4)))
    hashing_time = time.perf_counter() - started
    stop.set()
    await ticking
    assert max(gaps) < hashing_time / 2, (max(gaps), hashing_time)


async def test_hasher_sheds_work_beyond_concurrency_plus_queue(real_hasher, api):
    real_hasher.HASHER_CONCURRENCY = 1
    real_hasher.HASHER_QUEUE = 1
    responses = await asyncio.gather(
        *(
            api.post(
                "/api/auth/signup",
                json={"email": f"storm{n}@example.com", "password": DEFAULT_PASSWORD},
            )
            for n in range(8)
        )
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) >= 2
    assert 503 in statuses
    assert set(statuses) <= {201, 503}
    shed = next(r for r in responses if r.status_code == 503)
    assert shed.headers["retry-after"] == "1"
    assert set(shed.json()) == {"detail"}


async def test_health_answers_while_signups_hash(real_hasher, api):
    signups = [
        asyncio.create_task(
            api.post(
                "/api/auth/signup",
                json={"email": f"busy{n}@example.com", "password": DEFAULT_PASSWORD},
            )
        )
        for n in range(6)
    ]
    await asyncio.sleep(0.05)
    latencies = []
    for _ in range(5):
        started = time.perf_counter()
        assert (await api.get("/health")).status_code == 200
        latencies.append(time.perf_counter() - started)
    results = await asyncio.gather(*signups)
    assert all(r.status_code == 201 for r in results)
    assert max(latencies) < 0.5, latencies  # one hash is ~0.1-0.3 s: /health never waits for it
