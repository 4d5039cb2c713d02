"""Every bad request gets JSON and the right status, through the whole ASGI stack."""

import json

import pytest

pytestmark = pytest.mark.django_db(transaction=True)
SIGNUP = "/api/auth/signup"


def assert_json_detail(response, status: int) -> dict:
    assert response.status_code == status, response.text[:200]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "detail" in body
    return body


async def test_unknown_path_is_json_404(api):
    body = assert_json_detail(await api.get("/no/such/page"), 404)
    assert body == {"detail": "Not Found"}


async def test_wrong_method_is_json_405_with_allow(api):
    response = await api.delete("/health")
    assert_json_detail(response, 405)
    assert response.headers["allow"] == "GET"
    assert_json_detail(await api.get(SIGNUP), 405)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_non_json_content_type_is_415(api, content_type):
    response = await api.post(SIGNUP, content=b'{"a":1}', headers={"content-type": content_type})
    assert assert_json_detail(response, 415) == {"detail": "Content-Type must be application/json"}


async def test_missing_content_type_with_a_body_is_415(api):
    response = await api.post(SIGNUP, content=b'{"email":"a@b.co"}', headers={"content-type": ""})
    assert_json_detail(response, 415)


async def test_malformed_json_is_422_json_invalid_with_the_offset(api):
    response = await api.post(
        SIGNUP, content=b'{"email": "a@b.c",,}', headers={"content-type": "application/json"}
    )
    body = assert_json_detail(response, 422)
    assert body["detail"][0]["type"] == "json_invalid"
    assert body["detail"][0]["loc"] == ["body", 18]


async def test_invalid_utf8_is_422_json_invalid(api):
    response = await api.post(
        SIGNUP, content=b'{"email": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert assert_json_detail(response, 422)["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"null", "missing"),
        (b"[]", "model_attributes_type"),
        (b"42", "model_attributes_type"),
        (b'"text"', "model_attributes_type"),
        (b"", "missing"),
    ],
)
async def test_body_that_is_not_an_object_is_422_at_body(api, raw, kind):
    response = await api.post(SIGNUP, content=raw, headers={"content-type": "application/json"})
    body = assert_json_detail(response, 422)
    assert body["detail"] == [{"type": kind, "loc": ["body"], "msg": body["detail"][0]["msg"]}]


async def test_deeply_nested_json_is_refused_cleanly(api):
    nested = b"[" * 100_000 + b"]" * 100_000
    response = await api.post(SIGNUP, content=nested, headers={"content-type": "application/json"})
    assert response.status_code == 422


async def test_nul_bytes_in_fields_are_422_not_500(api):
    response = await api.post(SIGNUP, json={"email": "a\u0000b@example.com", "password": "x\u0000"})
    assert response.status_code == 422


async def test_body_over_max_body_bytes_is_413_before_it_is_read(api, settings):
    big = json.dumps({"email": "a@b.co", "password": "x" * 2_000_000}).encode()
    response = await api.post(SIGNUP, content=big, headers={"content-type": "application/json"})
    assert assert_json_detail(response, 413)["detail"].startswith("Request body is larger than")


async def test_chunked_body_over_the_limit_is_413(api):
    async def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = await api.post(
        SIGNUP, content=chunks(), headers={"content-type": "application/json"}
    )
    assert_json_detail(response, 413)


async def test_invalid_content_length_is_400(api):
    from project.asgi import application

    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": SIGNUP,
        "headers": [(b"host", b"localhost"), (b"content-length", b"abc")],
        "query_string": b"",
    }
    await application(scope, receive, send)
    assert messages[0]["status"] == 400


async def test_unknown_host_is_json_400(api):
    response = await api.get("/api/auth/me", headers={"host": "evil.example.com"})
    assert_json_detail(response, 400)


@pytest.mark.parametrize("path", ["/health", "/health/ready"])
async def test_probes_answer_whatever_the_host(api, path):
    response = await api.get(path, headers={"host": "10.1.2.3:8081"})
    assert response.status_code == 200


async def test_responses_carry_basic_security_headers(api):
    response = await api.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
