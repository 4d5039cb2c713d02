"""/health (liveness) and /health/ready (readiness, IETF health-check format)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_health_answers_exactly_what_the_old_backend_did(api):
    response = await api.get("/health")
    assert response.status_code == 200
    assert response.text == '{"status":"healthy","environment":"test"}'


async def test_ready_passes_with_the_database_up_and_migrated(api):
    response = await api.get("/health/ready")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "pass"
    database = body["checks"]["database:responseTime"][0]
    assert database["status"] == "pass"
    assert database["observedUnit"] == "ms"
    assert isinstance(database["observedValue"], int | float)
    assert body["checks"]["migrations:pending"] == [{"status": "pass", "observedValue": 0}]


async def test_ready_is_503_while_draining(api):
    from toolkit import lifecycle

    lifecycle.draining.set()
    try:
        response = await api.get("/health/ready")
    finally:
        lifecycle.draining.clear()
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.headers["retry-after"]
