"""CORS from CORS_ORIGINS (django-cors-headers)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }


async def test_preflight_from_an_allowed_origin_succeeds_with_credentials(api):
    response = await api.options("/api/auth/signup", headers=preflight("http://localhost:3000"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in response.headers["access-control-allow-headers"]


async def test_preflight_from_another_origin_gets_no_allow_origin(api):
    response = await api.options("/api/auth/signup", headers=preflight("https://evil.example"))
    assert "access-control-allow-origin" not in response.headers


async def test_simple_request_from_an_allowed_origin_is_allowed(api):
    response = await api.get("/health", headers={"Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


async def test_a_page_may_read_every_response_header_the_api_documents(api):
    schema = (await api.get("/api/openapi.json")).json()
    response = await api.get("/health", headers={"Origin": "http://localhost:3000"})
    exposed = {
        name.strip().lower()
        for name in response.headers["access-control-expose-headers"].split(",")
    }
    # Set-Cookie excepted: no page can ever read it (the Fetch standard forbids it).
    documented = {name.lower() for name in schema["components"]["headers"]} - {"set-cookie"}
    assert {"retry-after", "www-authenticate", "x-request-id"} <= documented <= exposed


async def test_a_page_may_send_its_own_request_id(api):
    headers = {
        **preflight("http://localhost:3000"),
        "Access-Control-Request-Headers": "content-type,x-request-id",
    }
    response = await api.options("/api/auth/signup", headers=headers)
    assert "x-request-id" in response.headers["access-control-allow-headers"]
