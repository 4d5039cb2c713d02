"""DEBUG's technical 500 page shows no credential: settings, nested passwords, URLs, locals."""

import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from project.database import DatabaseConfig

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql, pytest.mark.attack]

SECRETS = {
    "DATABASE_URL": "postgresql://app:db-pass-1c9f@db.internal/app",
    "TEST_DATABASE_URL": "postgresql://test:test-pass-7e21@db.internal/postgres",
    "REDIS_URL": "redis://:redis-pass-55aa@redis.internal:6379/0",
    "JWT_SECRET": "jwt-secret-0b3d-of-at-least-thirty-two-bytes",
    "METRICS_TOKEN": "metrics-token-4c4c",
    "CACHE_LOCATION": "redis://cache:cache-pass-3f3f@cache.internal:6379/1",
}
FALLBACK = "old-jwt-secret-77d1-of-at-least-thirty-two-bytes"
NESTED_PASSWORD = "nested-db-pass-e0e0"
# EMAIL_HOST_PASSWORD, as settings.py puts it: in Django 6.1's MAILERS entry.
SMTP_PASSWORD = "smtp-pass-9a8b"
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "smtp.example.com", "username": "mailer", "password": SMTP_PASSWORD},
    }
}
SECRET_VALUES = [*SECRETS.values(), FALLBACK, NESTED_PASSWORD, SMTP_PASSWORD]


def technical_500_text() -> str:
    """The data and the HTML of the page Django renders for an unhandled error under DEBUG."""
    dsn = SECRETS["DATABASE_URL"]  # a local variable in the failing frame
    try:
        raise RuntimeError(f"could not connect with {len(dsn)} characters of DSN")
    except RuntimeError:
        reporter = ExceptionReporter(None, *sys.exc_info())
        return repr(reporter.get_traceback_data()) + reporter.get_traceback_html()


@pytest.fixture
def credential_settings():
    database = DatabaseConfig(
        settings={"ENGINE": "django.db.backends.postgresql", "PASSWORD": NESTED_PASSWORD},
        label="postgresql://app@db.internal/app",
    )
    with override_settings(
        DEBUG=True,
        JWT_SECRET_FALLBACKS=[FALLBACK],
        DATABASE=database,
        MAILERS=MAILERS,
        **SECRETS,
    ):
        yield


def test_the_reporter_filter_is_the_credential_masking_one():
    assert type(get_default_exception_reporter_filter()).__name__ == "CredentialMaskingFilter"


@pytest.mark.usefixtures("credential_settings")
def test_debug_error_page_shows_no_credential_bearing_setting():
    text = technical_500_text()
    assert "JWT_SECRET_FALLBACKS" in text  # the page lists settings, masked
    leaked = [secret for secret in SECRET_VALUES if secret in text]
    assert leaked == []


@pytest.mark.usefixtures("credential_settings")
def test_safe_settings_mask_urls_with_passwords_and_nested_database_passwords():
    safe = get_default_exception_reporter_filter().get_safe_settings()
    for name in ["DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "CACHE_LOCATION"]:
        assert safe[name] == "********************", name
    assert safe["DATABASE"]["settings"]["PASSWORD"] == "********************"
    assert safe["DATABASE"]["label"] == "postgresql://app@db.internal/app"  # no password: shown
    assert safe["JWT_SECRET_FALLBACKS"] == "********************"
    assert safe["MAILERS"]["default"]["OPTIONS"]["password"] == "********************"
    assert safe["MAILERS"]["default"]["OPTIONS"]["username"] == "mailer"


def test_debug_error_page_hides_the_test_databases_own_password():
    password = settings.DATABASES["default"].get("PASSWORD")
    if not password:
        pytest.skip("the test database has no password")
    with override_settings(DEBUG=True):
        assert password not in technical_500_text()
