"""Hostile input: schemathesis over the whole OpenAPI document, then the classics by hand.
Nothing a client sends may produce a 5xx, a non-JSON answer, or a response off its schema."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tokens import access_token_encode
from tests.factories import DEFAULT_PASSWORD
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.attack, pytest.mark.slow]

# Schema-valid passwords can still fail Django's validators (common, numeric): the schema cannot
# say so, hence no positive_data_acceptance.
EXCLUDED_CHECKS = "positive_data_acceptance"


def schemathesis(server, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is in requirements-dev.txt"
    return subprocess.run(
        [
            executable,
            "run",
            f"{server.url}/api/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--seed",
            "20261125",
            "--workers",
            "2",
            "--request-timeout",
            "10",
            "--no-color",
            *args,
        ],
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server_factory, tmp_path):
    server = live_server_factory(RATE_LIMITS="off", HASHER_QUEUE="1000")
    session = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": "fuzz@example.com", "password": DEFAULT_PASSWORD},
    ).json()
    token = f"Authorization: Bearer {session['access_token']}"
    # Signed in (sign-out last, alone: it ends the session the other operations use).
    authed = schemathesis(
        server,
        tmp_path,
        "--max-examples",
        "250",
        "-H",
        token,
        "--exclude-path",
        "/api/auth/signout",
    )
    signout = schemathesis(
        server, tmp_path, "--max-examples", "50", "-H", token, "--include-path", "/api/auth/signout"
    )
    anonymous = schemathesis(server, tmp_path, "--max-examples", "250")
    for run in (authed, signout, anonymous):
        assert run.returncode == 0, run.stdout[-6000:]
        lines = run.stdout.splitlines()
        print(lines[lines.index("Test cases:") + 1].strip())
    assert " 500 " not in server.output()
    assert "Traceback" not in server.output()


@pytest.fixture(scope="module")
def server(module_live_server):
    """One server for the module: each test still starts from an emptied database."""
    return module_live_server(RATE_LIMITS="off")


def post(server, path: str, body: bytes, content_type: str = "application/json", **headers):
    return httpx.post(
        f"{server.url}{path}",
        content=body,
        headers={"content-type": content_type, **headers},
        timeout=30,
    )


def assert_json_error(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{", b"[]", b"[1,2]", b"42", b"null", b'"str"', b"true", b"\x00\x01\x02"],
)
def test_non_object_bodies(server, body):
    assert_json_error(post(server, "/api/auth/signup", body), 422)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "image/png"])
def test_wrong_content_types(server, content_type):
    assert_json_error(post(server, "/api/auth/signin", b'{"a":1}', content_type), 415)


def test_ten_megabyte_body_is_refused_before_it_is_read(server):
    assert_json_error(post(server, "/api/auth/signup", b"{" + b" " * 10_000_000 + b"}"), 413)


def test_deeply_nested_json(server):
    assert_json_error(post(server, "/api/auth/signup", b"[" * 50_000 + b"]" * 50_000), 422)
    assert_json_error(
        post(server, "/api/auth/signup", b'{"a":' * 50_000 + b"1" + b"}" * 50_000), 422
    )


def test_invalid_utf8_and_nul_bytes(server):
    assert_json_error(post(server, "/api/auth/signup", b'{"email":"\xc3\x28"}'), 422)
    body = json.dumps({"email": "nul\u0000@example.com", "password": "pass\u0000word-long"})
    assert_json_error(post(server, "/api/auth/signup", body.encode()), 422)
    body = json.dumps({"refresh_token": "token\u0000with-nul"})
    assert_json_error(post(server, "/api/auth/refresh", body.encode()), 401)


def test_thousand_character_email(server):
    body = json.dumps({"email": "a" * 990 + "@example.com", "password": DEFAULT_PASSWORD})
    assert_json_error(post(server, "/api/auth/signup", body.encode()), 422)


@pytest.mark.parametrize(
    "email", ["jose@exämple.com", "user@例子.广告", "test@xn--exmple-cua.com", "uni@bücher.de"]
)
def test_idn_domain_emails_sign_up(server, email):
    body = json.dumps({"email": email, "password": DEFAULT_PASSWORD}).encode()
    response = post(server, "/api/auth/signup", body)
    assert response.status_code == 201, response.text
    again = post(
        server,
        "/api/auth/signup",
        json.dumps({"email": email.upper(), "password": DEFAULT_PASSWORD}).encode(),
    )
    assert again.status_code == 409


@pytest.mark.parametrize("email", ["josé@exämple.com", "用户@例子.广告", "ünï@bücher.de"])
def test_non_ascii_local_parts_are_a_clean_422(server, email):
    # docs/security.md, "Email addresses": local parts are ASCII, so no look-alike registers.
    body = json.dumps({"email": email, "password": DEFAULT_PASSWORD}).encode()
    response = post(server, "/api/auth/signup", body)
    assert_json_error(response, 422)
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


def test_ten_thousand_character_password(server):
    body = json.dumps({"email": "long.pw@example.com", "password": "p" * 10_000}).encode()
    response = post(server, "/api/auth/signup", body)
    assert_json_error(response, 422)
    assert "p" * 100 not in response.text
    body = json.dumps({"email": "long.pw@example.com", "password": "p" * 10_000}).encode()
    assert_json_error(post(server, "/api/auth/signin", body), 422)


def test_hostile_tokens(server):
    session = httpx.post(
        f"{server.url}/api/auth/signup",
        json={"email": "victim@example.com", "password": DEFAULT_PASSWORD},
    ).json()
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    expired = access_token_encode(
        user_id=user_id,
        session_id=session_id,
        chain_id=uuid.UUID(claims["chn"]),
        now=timezone.now() - timedelta(days=1),
    )
    tokens = [
        jwt.encode(claims, "", algorithm="none"),
        jwt.encode(claims, "attacker-secret-attacker-secret-32b", algorithm="HS256"),
        jwt.encode({**claims, "sub": str(uuid.uuid4())}, settings.JWT_SECRET, algorithm="HS256"),
        jwt.encode({**claims, "aud": "someone-else"}, settings.JWT_SECRET, algorithm="HS256"),
        jwt.encode({**claims, "sub": "not-a-uuid"}, settings.JWT_SECRET, algorithm="HS256"),
        jwt.encode({**claims, "chn": "not-a-uuid"}, settings.JWT_SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in claims.items() if k != "exp"}, settings.JWT_SECRET),
        expired,
        "x" * 10_000,
        "a.b.c",
        session["refresh_token"],
    ]
    for token in tokens:
        response = httpx.get(
            f"{server.url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert_json_error(response, 401)
        assert token[:40] not in response.text
    assert "Traceback" not in server.output()
