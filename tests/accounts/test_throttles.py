"""Throttles: counted before hashing, 429 with Retry-After, shared by every worker process."""

import concurrent.futures

import httpx
import pytest

from accounts.exceptions import Throttled
from accounts.models import ThrottleCounter, User
from accounts.throttles import budgets_spend
from tests.accounts.helpers import signup
from tests.factories import DEFAULT_PASSWORD
from toolkit.rates import Rate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def throttled(settings):
    settings.RATE_LIMITS = True
    return settings


async def third_signup_under_a_rate_of_two(api, settings, prefix: str) -> httpx.Response:
    settings.RATE_LIMIT_SIGNUP = Rate(count=2, period=3600)
    for n in range(2):
        await signup(api, f"{prefix}{n}@example.com")
    return await api.post(
        "/api/auth/signup", json={"email": f"{prefix}2@example.com", "password": DEFAULT_PASSWORD}
    )


async def test_signup_is_throttled_per_ip_with_retry_after(api, throttled):
    response = await third_signup_under_a_rate_of_two(api, throttled, "first")
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many requests, retry later"}
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    assert not await User.objects.filter(email="first2@example.com").aexists()


async def test_throttles_count_per_client_ip(api, throttled):
    throttled.RATE_LIMIT_SIGNUP = Rate(count=1, period=3600)
    await signup(api, "one@example.com")
    from project.asgi import application

    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=("10.9.8.7", 4000)),
        base_url="http://localhost",
    )
    async with other:
        response = await other.post(
            "/api/auth/signup", json={"email": "two@example.com", "password": DEFAULT_PASSWORD}
        )
    assert response.status_code == 201


async def test_client_ip_header_is_used_when_configured(api, throttled):
    throttled.RATE_LIMIT_SIGNUP = Rate(count=1, period=3600)
    throttled.CLIENT_IP_HEADER = "X-Forwarded-For"
    first = {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}
    second = {"X-Forwarded-For": "203.0.113.9, 198.51.100.2"}
    body = {"email": "xff1@example.com", "password": DEFAULT_PASSWORD}
    assert (await api.post("/api/auth/signup", json=body, headers=first)).status_code == 201
    body = {"email": "xff2@example.com", "password": DEFAULT_PASSWORD}
    assert (await api.post("/api/auth/signup", json=body, headers=second)).status_code == 201
    body = {"email": "xff3@example.com", "password": DEFAULT_PASSWORD}
    assert (await api.post("/api/auth/signup", json=body, headers=first)).status_code == 429


async def test_failed_signins_per_email_lock_out_even_the_right_password(api, users, throttled):
    throttled.RATE_LIMIT_SIGNIN_FAILED = Rate(count=3, period=900)
    await users.create(email="target@example.com")
    for _ in range(3):
        wrong = await api.post(
            "/api/auth/signin", json={"email": "target@example.com", "password": "guess-guess"}
        )
        assert wrong.status_code == 401
    right = await api.post(
        "/api/auth/signin", json={"email": "TARGET@example.com", "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 429
    assert "retry-after" in right.headers


def client_from(address: str) -> httpx.AsyncClient:
    """The in-process app, called from another TCP peer address."""
    from project.asgi import application

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=(address, 4000)),
        base_url="http://localhost",
    )


async def test_signin_is_throttled_per_ip(api, users, throttled):
    throttled.RATE_LIMIT_SIGNIN = Rate(count=2, period=60)
    for name in ("ip1", "ip2", "ip3"):
        await users.create(email=f"{name}@example.com")

    def body(name: str) -> dict[str, str]:
        return {"email": f"{name}@example.com", "password": DEFAULT_PASSWORD}

    # Different accounts from one address share its budget...
    assert (await api.post("/api/auth/signin", json=body("ip1"))).status_code == 200
    assert (await api.post("/api/auth/signin", json=body("ip2"))).status_code == 200
    assert (await api.post("/api/auth/signin", json=body("ip3"))).status_code == 429
    # ...and another address has a budget of its own.
    async with client_from("10.9.8.7") as other:
        assert (await other.post("/api/auth/signin", json=body("ip3"))).status_code == 200


async def test_refresh_is_throttled_per_ip(api, throttled):
    throttled.RATE_LIMIT_REFRESH = Rate(count=1, period=60)
    session = await signup(api, "refresher@example.com")
    first = await api.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert first.status_code == 200
    second = await api.post(
        "/api/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert second.status_code == 429
    async with client_from("10.9.8.7") as other:
        third = await other.post(
            "/api/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
        )
    assert third.status_code == 200


async def test_rate_limits_off_disables_every_throttle(api, settings):
    settings.RATE_LIMITS = False
    settings.RATE_LIMIT_SIGNUP = Rate(count=1, period=3600)
    for n in range(3):
        await signup(api, f"unlimited{n}@example.com")


async def test_admin_login_is_throttled_per_ip(api, throttled):
    throttled.RATE_LIMIT_ADMIN_LOGIN = Rate(count=2, period=900)
    statuses = [
        (await api.post("/admin/login/", data={"username": "a@b.c", "password": "x"})).status_code
        for _ in range(3)
    ]
    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429
    async with client_from("10.9.8.7") as other:
        elsewhere = await other.post("/admin/login/", data={"username": "a@b.c", "password": "x"})
    assert elsewhere.status_code != 429


@pytest.mark.postgresql
def test_throttle_holds_across_two_worker_processes(live_server_factory):
    server = live_server_factory(
        "--workers", "2", RATE_LIMITS="on", RATE_LIMIT_SIGNUP="10/h", timeout=60
    )
    pids: set[str] = set()
    statuses: list[int] = []

    def attempt(n: int) -> tuple[int, str]:
        # A new connection each time, so the kernel may hand it to either worker.
        with httpx.Client(base_url=server.url, timeout=10) as client:
            response = client.post(
                "/api/auth/signup", json={"email": f"w{n}@example.com", "password": "weak"}
            )
            return response.status_code, response.headers["x-worker-pid"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        n = 0
        while n < 200 and (len(pids) < 2 or n < 40):
            for status, pid in pool.map(attempt, range(n, n + 8)):
                statuses.append(status)
                pids.add(pid)
            n += 8
    assert len(pids) == 2, "only one worker answered: the test proves nothing"
    # Weak passwords: 422 when admitted (counted before validation), 429 beyond the shared rate.
    assert statuses.count(422) == 10
    assert set(statuses) == {422, 429}


@pytest.fixture
def throttled_in_redis(throttled, redis_url):
    from accounts import throttles

    throttled.REDIS_URL = redis_url
    throttles.redis_client.cache_clear()
    yield throttled
    throttles.redis_client.cache_clear()


async def test_throttle_counters_live_in_redis_when_redis_url_is_set(api, throttled_in_redis):
    from accounts.models import ThrottleCounter

    response = await third_signup_under_a_rate_of_two(api, throttled_in_redis, "redis")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert not await ThrottleCounter.objects.aexists()


async def test_failed_signins_are_counted_in_redis(api, users, throttled_in_redis):
    throttled_in_redis.RATE_LIMIT_SIGNIN_FAILED = Rate(count=2, period=900)
    await users.create(email="redis.target@example.com")
    body = {"email": "redis.target@example.com", "password": "wrong-guess"}
    for _ in range(2):
        assert (await api.post("/api/auth/signin", json=body)).status_code == 401
    assert (await api.post("/api/auth/signin", json=body)).status_code == 429


async def test_one_budget_helper_counts_first_and_gives_back_when_right_or_refused(throttled):
    budgets = [
        ("test-budget-ip", "someone 192.0.2.1", Rate(count=2, period=900)),
        ("test-budget", "someone", Rate(count=10, period=900)),
    ]

    async def counts() -> list[int]:
        return [row.count async for row in ThrottleCounter.objects.order_by("key")]

    async def wrong() -> bool:
        assert await counts() == [1, 1]  # counted before the check runs
        return False

    async def wrong_again() -> str | None:
        return None  # a wrong code

    async def right() -> str:
        return "right"

    async def refused() -> bool:
        raise LookupError("refused before any check")

    assert await budgets_spend(budgets, right) == "right"
    assert await counts() == [0, 0]
    with pytest.raises(LookupError):
        await budgets_spend(budgets, refused)
    assert await counts() == [0, 0]
    assert await budgets_spend(budgets, wrong) is False
    assert await budgets_spend(budgets, wrong_again) is None
    assert sorted(await counts()) == [2, 2]
    with pytest.raises(Throttled):
        await budgets_spend(budgets, right)  # over the small budget: not run, nothing counted
    assert sorted(await counts()) == [2, 2]
