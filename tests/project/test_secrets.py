"""Signing secrets: development's key is random, per installation, private and loopback-only;
production refuses weak JWT secrets and weak fallbacks."""

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import ROOT, run_manage

pytestmark = [pytest.mark.postgresql, pytest.mark.attack]

STRONG_SECRET_KEY = "k3J9-vQ2_xW8zR5tY1uI7oP4aS6dF0gH2jK5lZ8xC3vB9nM1qW4eR7tY0uI3oP6aS"
STRONG_JWT_SECRET = "Zq8-rT3_vN6yB1mK4xW9cJ2hL7pF5dS0aG"
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": STRONG_SECRET_KEY,
    "JWT_SECRET": STRONG_JWT_SECRET,
    "DATABASE_URL": "postgresql://app:pw@db.internal:5432/app?sslmode=require",
    "ALLOWED_HOSTS": "api.example.com",
    "EMAIL_HOST": "smtp.example.com",
}
PRINT_SECRETS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SECRET_KEY); print(settings.JWT_SECRET)"
)
# The development key before this fix: derived from a constant in the repository.
REPOSITORY_DERIVED_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"


def development_environment(key_file: Path) -> dict[str, str]:
    """A development process with no secrets of its own, its key file at `key_file`."""
    return {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ENVIRONMENT": "development",
        "DEVELOPMENT_SECRET_FILE": str(key_file),
    }


def development_secrets(key_file: Path, **env: str) -> tuple[str, str]:
    """SECRET_KEY and JWT_SECRET as a fresh development process computes them."""
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SECRETS],
        cwd=ROOT,
        env={**development_environment(key_file), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    secret_key, jwt_secret = result.stdout.split()
    return secret_key, jwt_secret


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_development_key_is_random_per_installation_and_not_derived_from_the_repository(tmp_path):
    first = development_secrets(tmp_path / "one" / "development.key")
    second = development_secrets(tmp_path / "two" / "development.key")
    assert first != second
    assert REPOSITORY_DERIVED_KEY not in first
    assert (tmp_path / "one" / "development.key").read_text().strip() not in REPOSITORY_DERIVED_KEY


def test_development_key_is_the_same_for_every_process_of_one_installation(tmp_path):
    key_file = tmp_path / "development.key"
    assert development_secrets(key_file) == development_secrets(key_file)


def test_development_key_file_is_readable_by_its_owner_only(tmp_path):
    key_file = tmp_path / "secrets" / "development.key"
    development_secrets(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700


def test_processes_starting_at_once_agree_on_one_development_key(tmp_path):
    key_file = tmp_path / "development.key"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_SECRETS],
            cwd=ROOT,
            env=development_environment(key_file),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = {process.communicate(timeout=60)[0] for process in processes}
    assert len(outputs) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["development.key"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "api.example.com"])  # noqa: S104
def test_non_loopback_host_without_explicit_secrets_refuses_to_start(tmp_path, host):
    result = run_manage("check", HOST=host, DEVELOPMENT_SECRET_FILE=str(tmp_path / "k"))
    line = one_line_error(result)
    assert "HOST" in line
    assert "SECRET_KEY and JWT_SECRET" in line


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_host_starts_with_the_development_key(tmp_path, host):
    result = run_manage("check", HOST=host, DEVELOPMENT_SECRET_FILE=str(tmp_path / "k"))
    assert result.returncode == 0, result.stderr


def test_non_loopback_host_starts_with_explicit_secrets(tmp_path):
    result = run_manage(
        "check",
        HOST="0.0.0.0",  # noqa: S104
        SECRET_KEY=STRONG_SECRET_KEY,
        JWT_SECRET=STRONG_JWT_SECRET,
        DEVELOPMENT_SECRET_FILE=str(tmp_path / "k"),
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "k").exists()


WEAK_SECRETS = [
    "changeme",
    "secret",
    "password",
    "your-secret-here",
    "a" * 32,
    "ab" * 40,
    "changeme-changeme-changeme-changeme",
    "your-secret-here-your-secret-here-your-secret-here",
    "password1234password1234password1234",
]


@pytest.mark.parametrize("weak", WEAK_SECRETS)
def test_production_refuses_a_weak_jwt_secret(weak):
    line = one_line_error(run_manage("check", **{**PRODUCTION, "JWT_SECRET": weak}))
    assert line.startswith("Configuration error: JWT_SECRET is too weak for production")
    assert len(weak) < 16 or weak not in line


@pytest.mark.parametrize("weak", WEAK_SECRETS)
def test_production_refuses_a_weak_jwt_secret_fallback(weak):
    fallbacks = f"{STRONG_JWT_SECRET[::-1]},{weak}"
    line = one_line_error(run_manage("check", **{**PRODUCTION, "JWT_SECRET_FALLBACKS": fallbacks}))
    assert "JWT_SECRET_FALLBACKS entry 2 is too weak for production" in line
    assert len(weak) < 16 or weak not in line


def test_production_starts_with_strong_jwt_secret_and_fallbacks():
    fallbacks = f"{STRONG_JWT_SECRET[::-1]},production-jwt-secret-of-more-than-32-bytes"
    result = run_manage("check", **{**PRODUCTION, "JWT_SECRET_FALLBACKS": fallbacks})
    assert result.returncode == 0, result.stderr
