"""X-Request-ID: kept when the client's is valid, made otherwise, always in the answer."""

import re

import pytest

from tests.accounts.helpers import bearer, signup

pytestmark = pytest.mark.django_db(transaction=True)

GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_a_request_without_an_id_gets_a_generated_one_in_the_answer(api):
    first = await api.get("/health")
    second = await api.get("/health")
    assert GENERATED.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("incoming", ["abc", "a" * 128, "trace-1.2_3", "0"])
async def test_a_valid_incoming_request_id_is_kept(api, incoming):
    response = await api.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["a" * 129, "has space", "semi;colon", "ünïcode", "a/b"])
async def test_an_invalid_incoming_request_id_is_replaced_by_a_generated_one(api, incoming):
    response = await api.get("/health", headers={"X-Request-ID": incoming.encode()})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_every_kind_of_answer_carries_exactly_one_request_id(api, users):
    session = await signup(api, users.email())
    answers = [
        await api.get("/health/ready"),
        await api.get("/api/auth/me", headers=bearer(session)),
        await api.get("/api/auth/me"),  # 401
        await api.get("/nowhere"),  # 404
        await api.delete("/health"),  # 405
        await api.post(
            "/api/auth/signin", content=b"{", headers={"content-type": "application/json"}
        ),
        await api.get("/health", headers={"Host": "evil.example"}),  # a probe: any Host
        await api.get("/api/auth/me", headers={"Host": "evil.example"}),  # 400
        await api.get("/admin/login/"),
    ]
    for response in answers:
        assert len(response.headers.get_list("x-request-id")) == 1, response.request.url


async def test_an_answer_refused_before_django_carries_the_request_id(api):
    response = await api.post(
        "/api/auth/signup",
        content=b"x" * 2_000_000,
        headers={"content-type": "application/json", "X-Request-ID": "too-big-1"},
    )
    assert response.status_code == 413
    assert response.headers["x-request-id"] == "too-big-1"
