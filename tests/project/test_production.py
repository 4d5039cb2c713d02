"""Production mode behind a TLS proxy: security headers, HTTPS redirects except probes, JSON for
every error, no DEBUG, and no secret committed to the repository."""

import re
import subprocess

import httpx
import pytest

from tests.support.commands import ROOT
from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.attack]
HOST = "api.example.com"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "k3J9-vQ2_xW8zR5tY1uI7oP4aS6dF0gH2jK5lZ8xC3vB9nM1qW4eR7tY0uI3oP6aS",
    "JWT_SECRET": "production-jwt-secret-of-more-than-32-bytes",
    "DATABASE_URL": "postgresql://unused:unused@unused/unused",  # tests use the test database
    "ALLOWED_HOSTS": HOST,
    "DEBUG": "",
    "BEHIND_TLS_PROXY": "",
    "EMAIL_HOST": "smtp.example.com",
}


@pytest.fixture(scope="module")
def server(module_live_server):
    """One production-mode server for the module."""
    return module_live_server(**PRODUCTION)


def test_startup_says_production(server):
    assert "Environment: production" in server.output()


def test_https_responses_carry_security_headers(server):
    response = httpx.get(f"{server.url}/health", headers=HTTPS)
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "environment": "production"}
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/openapi.json", "/admin/"])
def test_plain_http_is_redirected_to_https(server, path):
    response = httpx.get(f"{server.url}{path}", headers={"Host": HOST})
    assert response.status_code == 301
    assert response.headers["location"] == f"https://{HOST}{path}"


@pytest.mark.parametrize("path", ["/health", "/health/ready"])
def test_probes_answer_over_plain_http_by_ip(server, path):
    response = httpx.get(f"{server.url}{path}", headers={"Host": "10.42.0.7:8081"})
    assert response.status_code == 200


def test_unknown_host_is_a_json_400(server):
    response = httpx.get(
        f"{server.url}/api/auth/me", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("DELETE", "/health", 405),
        ("GET", "/api/auth/me", 401),
        ("POST", "/api/auth/signin", 415),
    ],
)
def test_errors_are_json_without_tracebacks(server, method, path, status):
    response = httpx.request(method, f"{server.url}{path}", headers=HTTPS, content=b"x")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    assert "<html" not in response.text.lower()


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "GitHub token": re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"),
    "Slack token": re.compile(r"xox[abprs]-[A-Za-z0-9-]{10,}"),
    "Neon password": re.compile(r"npg_[A-Za-z0-9]{8,}"),
    "password in a Neon URL": re.compile(
        r"postgres(?:ql)?(?:\+\w+)?://[^:/\s]+:(?!PASSWORD@|pw@|p@)[^@\s]+@[^\s]*neon\.tech"
    ),
}


def test_repository_holds_no_secrets_and_no_env_file():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".env" not in files
    findings = []
    for name in files:
        try:
            text = (ROOT / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for label, pattern in SECRET_PATTERNS.items():
            if pattern.search(text):
                findings.append(f"{name}: {label}")
    assert findings == []
