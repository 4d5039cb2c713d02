"""panva's oidc-provider (tests/support/oidc/provider.mjs) as a real OpenID Connect provider on
loopback, its signing key ours too (to mint attack tokens), and the devInteractions login a
browser would do, done over HTTP."""

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.pgcluster import free_port
from tests.support.process import Process

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "accounts-web"
CLIENT_SECRET = "accounts-web-secret-for-tests-only-0123456789"
NATIVE_CLIENT_ID = "accounts-native"


def oidc_modules(npm: str) -> Path:
    """tests/support/oidc/node_modules from the committed lockfile (`npm ci` when absent or
    older than the lockfile)."""
    modules = OIDC_DIR / "node_modules"
    installed = modules / ".package-lock.json"
    lockfile = OIDC_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=OIDC_DIR,
            check=True,
            timeout=300,
        )
    return modules


@dataclass
class OidcProvider:
    """A running provider: its issuer, its private signing key, the process."""

    issuer: str
    key: RSAKey
    process: Process

    def mint(self, claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
        """An ID token signed with the provider's own key (its `kid`): a forgery only in what
        the claims say."""
        now = int(time.time())
        base = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300}
        head = {"alg": "RS256", "kid": self.key.kid, **(header or {})}
        return jwt.encode(head, {**base, **claims}, self.key)

    def stop(self) -> None:
        self.process.stop(timeout=10)


def oidc_provider_start(
    log_dir: Path, *, redirect_uris: list[str], port: int | None = None
) -> OidcProvider:
    node = shutil.which("node")
    assert node is not None
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }
    ]
    process = Process(
        name="oidc-provider",
        command=[node, str(OIDC_DIR / "provider.mjs")],
        log=log_dir / "oidc-provider.log",
        cwd=OIDC_DIR,
        env={
            **os.environ,
            "PORT": str(port),
            "ISSUER": issuer,
            "CLIENTS": json.dumps(clients),
            "JWKS": json.dumps({"keys": [key.as_dict(private=True)]}),
            "CONFORM_ID_TOKEN_CLAIMS": "false",
        },
    ).start()
    process.wait_for_port(port)
    return OidcProvider(issuer=issuer, key=key, process=process)


async def provider_login(authorization_url: str, login: str) -> str:
    """What a browser does at the provider (devInteractions): sign in as `login`, consent, and
    come back. Returns the redirect to our callback (with `code`, `state` and `iss`)."""
    async with httpx.AsyncClient(timeout=10) as browser:
        url = authorization_url
        for _ in range(20):
            response = await browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                if "/callback" in urlsplit(url).path:
                    return url
                continue
            assert response.status_code == 200, response.text
            form = interaction_form(response.text, url)
            prompt = "login" if 'name="login"' in response.text else "consent"
            fields = {"prompt": prompt}
            if prompt == "login":
                fields |= {"login": login, "password": "x"}
            posted = await browser.post(form, data=fields)
            assert posted.status_code in (302, 303), posted.text
            url = urljoin(form, posted.headers["location"])
            if "/callback" in urlsplit(url).path:
                return url
        raise AssertionError("the provider's login did not come back")


def interaction_form(html: str, page: str) -> str:
    start = html.index('action="') + len('action="')
    return urljoin(page, html[start : html.index('"', start)])


def callback_query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
