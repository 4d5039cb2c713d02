"""REDIS_URL set and Redis not answering: what a throttle must count is refused with 503 and
Retry-After (an uncounted password guess is what throttles exist to prevent); everything else is
served. It was a 500 for every throttled request."""

import pytest

from accounts import throttles
from tests.accounts.helpers import bearer, signup
from tests.accounts.test_admin import admin_login
from tests.support.pgcluster import free_port

pytestmark = pytest.mark.django_db(transaction=True)
UNAVAILABLE = {"detail": "Service temporarily unavailable: the throttle store is not reachable"}


@pytest.fixture
def redis_away(settings):
    settings.RATE_LIMITS = True
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    throttles.redis_client.cache_clear()
    yield settings
    throttles.redis_client.cache_clear()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/signup", {"email": "new@example.com", "password": "a passphrase long enough"}),
        ("/api/auth/signin", {"email": "who@example.com", "password": "a passphrase long enough"}),
        ("/api/auth/refresh", {"refresh_token": "not-even-checked"}),
        ("/api/auth/password/reset", {"email": "who@example.com"}),
    ],
)
async def test_counted_requests_are_refused_with_503_and_retry_after(api, redis_away, path, body):
    response = await api.post(path, json=body)
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "5"


async def test_what_no_throttle_counts_is_still_served(api, settings, redis_away):
    settings.RATE_LIMITS = False
    session = await signup(api, "kept@example.com")
    settings.RATE_LIMITS = True
    assert (await api.get("/api/auth/me", headers=bearer(session))).status_code == 200
    assert (await api.get("/health/ready")).status_code == 200  # every instance shares Redis


async def test_the_admin_login_is_refused_the_same_way(api, redis_away):
    response = await admin_login(api, "operator@example.com", "operator-passphrase")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
