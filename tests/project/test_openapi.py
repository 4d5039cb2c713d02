"""OpenAPI at /api/openapi.json, docs at /api/docs from bundled assets."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def schema(api):
    response = await api.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_openapi_lists_every_endpoint(schema):
    assert set(schema["paths"]) == {
        "/health",
        "/health/ready",
        "/api/auth/signup",
        "/api/auth/signin",
        "/api/auth/refresh",
        "/api/auth/signout",
        "/api/auth/me",
        "/api/auth/password",
    }


async def test_openapi_documents_requests_and_error_responses(schema):
    signup = schema["paths"]["/api/auth/signup"]["post"]
    assert "requestBody" in signup
    assert {"201", "409", "413", "415", "422", "429", "503"} <= set(signup["responses"])
    me = schema["paths"]["/api/auth/me"]["get"]
    assert {"200", "401"} <= set(me["responses"])
    assert me["security"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


async def test_openapi_gives_the_readiness_content_type(schema):
    ready = schema["paths"]["/health/ready"]["get"]["responses"]
    assert "application/health+json" in ready["200"]["content"]
    assert "application/health+json" in ready["503"]["content"]


async def test_docs_page_uses_bundled_assets(api):
    response = await api.get("/api/docs")
    assert response.status_code == 200
    assert "cdn.jsdelivr" not in response.text and "unpkg" not in response.text
