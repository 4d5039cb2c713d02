"""The GitHub kind against a tiny local fake of GitHub's token, user and emails endpoints (a
GitHub Enterprise-style issuer: `<issuer>/login/oauth/...` and `<issuer>/api/v3/...`)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings

from tests.social.helpers import AUTH, authorize, callback, exchange
from toolkit.identity_providers import IdentityProviderConfig

pytestmark = [pytest.mark.django_db(transaction=True)]
TOKEN = "gho_fake_access_token"
EMAILS = [
    {"email": "octo@users.noreply.example", "primary": False, "verified": True},
    {"email": "octo@example.com", "primary": True, "verified": True},
]


class FakeGitHub(BaseHTTPRequestHandler):
    emails = EMAILS

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        good = (
            self.path == "/login/oauth/access_token"
            and form.get("code") == ["good-code"]
            and form.get("client_secret") == ["gh-secret"]
            and len(form.get("code_verifier", [""])[0]) >= 43
        )
        # GitHub answers 200 with an error for a wrong or used code.
        self.answer({"access_token": TOKEN} if good else {"error": "bad_verification_code"})

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        if self.path == "/api/v3/user":
            self.answer({"id": 4242, "login": "octo"})
        elif self.path == "/api/v3/user/emails":
            self.answer(self.emails)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture
def github() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    provider = IdentityProviderConfig(
        id="acme",  # the helpers' provider id; the kind is what matters here
        kind="github",
        name="GitHub",
        issuer=issuer,
        client_ids=("gh-client",),
        client_secret="gh-secret",
        scopes="read:user user:email",
    )
    with override_settings(
        SOCIAL_PROVIDERS=(provider,),
        API_PUBLIC_URL="",
        FRONTEND_SOCIAL_CALLBACK_URL="http://localhost:3000/auth/callback",
    ):
        yield issuer
    server.shutdown()
    server.server_close()


def callback_url(started_url: str, code: str) -> str:
    state = parse_qs(urlsplit(started_url).query)["state"][0]
    return f"http://localhost{AUTH}/providers/acme/callback?code={code}&state={state}"


async def test_github_signs_up_with_the_verified_primary_email(api, github):
    started = await authorize(api)
    parts = urlsplit(started.authorization_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{github}/login/oauth/authorize"
    query = parse_qs(parts.query)
    assert query["client_id"] == ["gh-client"]
    assert query["code_challenge_method"] == ["S256"]
    back = await callback(
        api, callback_url(started.authorization_url, "good-code"), started.binding
    )
    session = (await exchange(api, back["code"], started.binding)).json()
    assert session["user"]["email"] == "octo@example.com"
    assert session["user"]["email_verified"] is True


async def test_github_without_a_verified_primary_email_is_email_missing(api, github, monkeypatch):
    monkeypatch.setattr(FakeGitHub, "emails", [{"email": "x@example.com", "primary": True}])
    started = await authorize(api)
    back = await callback(
        api, callback_url(started.authorization_url, "good-code"), started.binding
    )
    assert back == {"error": "email_missing"}


async def test_github_refusing_the_code_is_invalid_grant(api, github):
    started = await authorize(api)
    back = await callback(api, callback_url(started.authorization_url, "bad-code"), started.binding)
    assert back == {"error": "invalid_grant"}


async def test_github_has_no_id_tokens_for_native_apps(api, github):
    response = await api.post(f"{AUTH}/providers/acme/token", json={"id_token": "a.b.c"})
    assert response.status_code == 401
