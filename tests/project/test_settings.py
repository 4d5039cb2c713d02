"""Configuration from the environment: clear one-line errors, production's refusals, `.env`."""

import os
import re
import subprocess
import sys

import pytest

from tests.support.commands import ROOT, documented_variables, run_manage

STRONG_SECRET = "k3J9-vQ2_xW8zR5tY1uI7oP4aS6dF0gH2jK5lZ8xC3vB9nM1qW4eR7tY0uI3oP6aS"
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": STRONG_SECRET,
    "JWT_SECRET": "jW7-tQ4_zK9xR2vB6nM1cL8pD3fG5hS0",
    "DATABASE_URL": "postgresql://app:pw@db.internal:5432/app?sslmode=require",
    "ALLOWED_HOSTS": "api.example.com",
    "EMAIL_HOST": "smtp.example.com",
}


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_env_example_documents_every_variable_settings_read():
    settings_source = (ROOT / "project" / "settings.py").read_text()
    read = set(
        re.findall(
            r'env_(?:str|int|float|bool|choice|link|list|networks|origins|rate)\(\s*"([A-Z_]+)"',
            settings_source,
        )
    )
    assert read <= set(documented_variables()), read - set(documented_variables())


def test_env_example_and_the_configuration_reference_give_every_rate_limit_its_default():
    settings_source = (ROOT / "project" / "settings.py").read_text()
    defaults = dict(re.findall(r'env_rate\(\s*"([A-Z_]+)",\s*"([^"]+)"\)', settings_source))
    assert "RATE_LIMIT_SIGNUP" in defaults, "the pattern no longer finds the rate limits"
    lines = (ROOT / ".env.example").read_text().splitlines()
    example = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert {name: example.get(name) for name in defaults} == defaults
    reference: dict[str, str] = {}
    for row in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        cells = row.split(" | ")
        names = re.findall(r"`(RATE_LIMIT_[A-Z_]+)`", cells[0])
        if names and len(cells) > 1:
            reference.update(zip(names, re.findall(r"`([^`]+)`", cells[1]), strict=True))
    assert {name: reference.get(name) for name in defaults} == defaults


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("DATABASE_URL", "mysql://root:hunter2@db/app", "unsupported scheme 'mysql'"),
        ("DATABASE_URL", "postgresql://u:hunter2@db:port/app", "malformed host or port"),
        ("PORT", "eighty", "PORT must be a whole number"),
        ("RATE_LIMITS", "sometimes", "RATE_LIMITS must be true or false"),
        ("RATE_LIMIT_SIGNUP", "lots", "RATE_LIMIT_SIGNUP must look like"),
        ("CORS_ORIGINS", "localhost:3000", "CORS_ORIGINS has 'localhost:3000'"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT must be one of"),
        ("DB_POOL_TIMEOUT", "0", "DB_POOL_TIMEOUT must be at least 0.1"),
        ("HASHER_MEMORY_MIB", "64", "HASHER_MEMORY_MIB must hold at least one password hash"),
        ("FRONTEND_URL", "localhost:3000", "FRONTEND_URL must be an http(s) URL"),
        (
            "FRONTEND_RESET_PASSWORD_URL",
            "https://app.example.com/reset",
            "FRONTEND_RESET_PASSWORD_URL must hold {token} exactly once",
        ),
        (
            "FRONTEND_VERIFY_EMAIL_URL",
            "https://app.example.com/v?t={tokn}",
            "FRONTEND_VERIFY_EMAIL_URL must hold {token} exactly once",
        ),
        (
            "FRONTEND_CONFIRM_EMAIL_CHANGE_URL",
            "{token}",
            "FRONTEND_CONFIRM_EMAIL_CHANGE_URL must be an http(s) URL",
        ),
        ("TASKS_BACKEND", "celery", "TASKS_BACKEND must be one of immediate, database"),
        ("RATE_LIMIT_PASSWORD_RESET", "often", "RATE_LIMIT_PASSWORD_RESET must look like"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/33", "TRUSTED_PROXIES has '10.0.0.0/33'"),
        ("TRUSTED_PROXIES", "proxy.internal", "TRUSTED_PROXIES has 'proxy.internal'"),
        ("TRUSTED_PROXIES", "10.1.2.3/8", "TRUSTED_PROXIES has '10.1.2.3/8'"),
        ("THROTTLE_IPV6_PREFIX", "129", "THROTTLE_IPV6_PREFIX must be at most 128, got 129"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it_without_secrets(variable, value, fragment):
    result = run_manage("check", **{variable: value})
    assert_one_line_error(result, fragment)
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "JWT_SECRET", "DATABASE_URL", "ALLOWED_HOSTS", "EMAIL_HOST"]
)
def test_production_refuses_to_start_without_a_required_variable(missing):
    result = run_manage("check", **{**PRODUCTION, missing: ""})
    assert_one_line_error(result, missing, "required")


@pytest.mark.parametrize("secret", ["short", "django-insecure-" + "x" * 60, "a" * 60, "ab" * 40])
def test_production_refuses_a_weak_secret_key(secret):
    assert_one_line_error(run_manage("check", **{**PRODUCTION, "SECRET_KEY": secret}), "SECRET_KEY")


def test_production_refuses_a_short_jwt_secret():
    result = run_manage("check", **{**PRODUCTION, "JWT_SECRET": "too-short"})
    assert_one_line_error(result, "JWT_SECRET is too weak", "at least 32 bytes")


def test_production_refuses_debug():
    assert_one_line_error(run_manage("check", **{**PRODUCTION, "DEBUG": "true"}), "DEBUG")


def test_check_deploy_is_clean_with_production_defaults():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_cors_origins_tolerate_a_trailing_slash():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)",
        CORS_ORIGINS="https://app.example.com/, http://localhost:3000",
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == "['https://app.example.com', 'http://localhost:3000']"
    )


@pytest.mark.parametrize(("environment", "read"), [("development", True), ("test", False)])
def test_dotenv_is_read_except_in_tests(tmp_path, environment, read):
    (tmp_path / ".env").write_text("SOME_SETTING_FROM_DOTENV=yes\n")
    script = (
        "import os, sys; from pathlib import Path; from toolkit.env import load_dotenv_file; "
        "load_dotenv_file(Path(sys.argv[1])); print(os.environ.get('SOME_SETTING_FROM_DOTENV'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "ENVIRONMENT": environment},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ("yes" if read else "None")


def python_succeeds(script: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_settings_import_where_the_os_has_no_sched_getaffinity():
    # macOS and Windows have no os.sched_getaffinity: the core count falls back to cpu_count.
    script = (
        "import os; del os.sched_getaffinity; "
        "os.environ.update(ENVIRONMENT='test', DJANGO_SETTINGS_MODULE='project.settings'); "
        "from django.conf import settings; print(settings.HASHER_CONCURRENCY)"
    )
    result = python_succeeds(script)
    assert int(result.stdout.strip()) == os.cpu_count()


@pytest.mark.parametrize(
    ("reader", "value", "minimum", "allowed"),
    [
        ("int", "5", 5, True),
        ("int", "4", 5, False),
        ("float", "0.5", 0.5, True),
        ("float", "0.4", 0.5, False),
        ("float", "0", 0, True),
        ("float", "nan", 0, False),
    ],
)
def test_minimum_is_the_smallest_value_allowed_for_ints_and_floats(
    monkeypatch, reader, value, minimum, allowed
):
    from django.core.exceptions import ImproperlyConfigured

    from toolkit.env import env_float, env_int

    monkeypatch.setenv("SOME_SETTING", value)
    read = env_int if reader == "int" else env_float
    if allowed:
        assert read("SOME_SETTING", 1, minimum=minimum) == float(value)
    else:
        with pytest.raises(ImproperlyConfigured, match="SOME_SETTING"):
            read("SOME_SETTING", 1, minimum=minimum)


def test_fast_path_off_serves_stock_django_classes():
    script = (
        "import os; os.environ.update(ENVIRONMENT='test', FAST_PATH='off', "
        "DJANGO_SETTINGS_MODULE='project.settings'); "
        "from project.asgi import application; from django.conf import settings; "
        "print(type(application.django_app).__module__, type(application.django_app).__name__); "
        "print(any(m.startswith('fastpath') for m in settings.MIDDLEWARE), "
        "settings.SILENCED_SYSTEM_CHECKS, 'fastpath' in settings.INSTALLED_APPS)"
    )
    result = python_succeeds(script)
    assert result.stdout.splitlines() == [
        "django.core.handlers.asgi ASGIHandler",
        "False [] False",
    ]


def test_email_use_tls_and_ssl_together_are_refused():
    result = run_manage(
        "check", EMAIL_HOST="smtp.example.com", EMAIL_USE_TLS="on", EMAIL_USE_SSL="on"
    )
    assert_one_line_error(result, "EMAIL_USE_TLS", "EMAIL_USE_SSL", "exclude each other")


def print_setting(expression: str, **env: str) -> str:
    result = run_manage(
        "shell", "-c", f"from django.conf import settings; print({expression})", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_tasks_are_queued_in_the_database_in_production_and_immediate_in_development():
    backend = "settings.TASKS['default']['BACKEND']"
    assert print_setting(backend, **PRODUCTION) == "django_tasks_db.DatabaseBackend"
    assert print_setting(backend) == "django.tasks.backends.immediate.ImmediateBackend"


def test_without_email_host_development_prints_messages_on_the_console():
    backend = "settings.MAILERS['default']['BACKEND']"
    assert print_setting(backend) == "django.core.mail.backends.console.EmailBackend"


def test_email_variables_become_djangos_smtp_mailer():
    options = print_setting(
        "sorted(settings.MAILERS['default']['OPTIONS'].items())",
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="pw",
        EMAIL_USE_TLS="true",
    )
    assert options == (
        "[('host', 'smtp.example.com'), ('password', 'pw'), ('port', 587), "
        "('timeout', 10.0), ('use_ssl', False), ('use_tls', True), ('username', 'mailer')]"
    )


def test_link_templates_default_to_the_frontend_url():
    link = print_setting(
        "settings.FRONTEND_RESET_PASSWORD_URL", FRONTEND_URL="https://app.example.com/"
    )
    assert link == "https://app.example.com/reset-password?token={token}"


def test_production_warns_about_links_over_plain_http():
    warnings = print_setting("settings.CONFIGURATION_WARNINGS", **PRODUCTION)
    assert "FRONTEND_RESET_PASSWORD_URL is not https" in warnings
    secure = print_setting(
        "settings.CONFIGURATION_WARNINGS", **PRODUCTION, FRONTEND_URL="https://app.example.com"
    )
    assert "is not https" not in secure
