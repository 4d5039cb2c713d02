"""Django settings, read once from the environment (see `.env.example` for every variable)."""

import os
from pathlib import Path

from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured
from psycopg_pool import ConnectionPool

from fastpath import MIDDLEWARE_STAND_INS
from fastpath.pool import connection_check
from project.database import PoolSettings, database_config_from_url
from project.keys import signing_secrets
from server.logging import logging_config
from toolkit.client_address import DEFAULT_TRUSTED_PROXIES
from toolkit.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_link,
    env_list,
    env_networks,
    env_origin,
    env_origins,
    env_rate,
    env_str,
)
from toolkit.identity_providers import identity_providers_from_env
from toolkit.links import frontend_url, plain_http_warnings, url_host, url_origin
from toolkit.mailers import default_mailer, smtp_default_port
from toolkit.openapi import HEADERS as DOCUMENTED_RESPONSE_HEADERS

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = env_choice("ENVIRONMENT", "development", ("development", "test", "production"))
IS_PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", False)
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when ENVIRONMENT=production.")

CONFIGURATION_WARNINGS: list[str] = []  # worth a start-up log line, not a refusal

# --- Secrets -------------------------------------------------------------------------------------
# Without SECRET_KEY/JWT_SECRET, development uses a random key kept in DEVELOPMENT_SECRET_FILE,
# for a server bound to loopback only; production's must be set, and strong (project.keys).
HOST = env_str("HOST", "127.0.0.1")
DEVELOPMENT_SECRET_FILE = Path(
    env_str("DEVELOPMENT_SECRET_FILE", str(BASE_DIR / ".secrets" / "development.key"))
)
JWT_SECRET_FALLBACKS = env_list("JWT_SECRET_FALLBACKS")
SECRET_KEY, JWT_SECRET = signing_secrets(
    secret_key=env_str("SECRET_KEY"),
    jwt_secret=env_str("JWT_SECRET"),
    jwt_fallbacks=JWT_SECRET_FALLBACKS,
    production=IS_PRODUCTION,
    host=HOST,
    development_file=DEVELOPMENT_SECRET_FILE,
    warnings=CONFIGURATION_WARNINGS,
)
JWT_ISSUER = env_str("JWT_ISSUER", "accounts-api")
JWT_AUDIENCE = env_str("JWT_AUDIENCE", "accounts-api")
ACCESS_TOKEN_TTL = env_int("ACCESS_TOKEN_TTL", 900, minimum=1)
REFRESH_TOKEN_TTL = env_int("REFRESH_TOKEN_TTL", 2_592_000, minimum=1)
REFRESH_REUSE_GRACE = env_int("REFRESH_REUSE_GRACE", 10, minimum=0)  # two tabs refreshing at once
REAUTH_MAX_AGE = env_int("REAUTH_MAX_AGE", 300, minimum=1)  # how long a sign-in stays fresh

# --- Hosts, proxies, CORS ------------------------------------------------------------------------
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when ENVIRONMENT=production.")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
# Liveness and readiness probes, and Prometheus, come by pod IP, whatever ALLOWED_HOSTS says.
HOST_CHECK_EXEMPT_PATHS = ("/health", "/health/ready", "/metrics")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_ALLOWED_ORIGINS = env_origins("CORS_ORIGINS", "http://localhost:3000")
CORS_ALLOW_CREDENTIALS = True
# Pages may read every documented response header, send a request id, ask for cookies.
CORS_EXPOSE_HEADERS = list(DOCUMENTED_RESPONSE_HEADERS)
CORS_ALLOW_HEADERS = (*cors_default_headers, "x-request-id", "x-auth-transport")

BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", IS_PRODUCTION)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Probes and Prometheus speak plain HTTP to the pod (paths here go without the leading "/").
    SECURE_REDIRECT_EXEMPT = [r"^health(/|$)", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# DEBUG's error pages and error e-mails mask every credential, not only the settings Django names.
DEFAULT_EXCEPTION_REPORTER_FILTER = "project.reporting.CredentialMaskingFilter"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The header our proxy sets with the client's address, read only from TRUSTED_PROXIES' peers.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER")
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES)

# --- Application ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "ninja",
    "accounts",
    # After accounts: audit records its events, mfa and passkeys plug into its journeys.
    "audit",
    "mfa",
    "social",
    "passkeys",
    "health",
    # The task queue; after accounts, whose outage-tolerant `manage.py db_worker` replaces its own.
    "django_tasks_db",
]

FAST_PATH = env_bool("FAST_PATH", True)
# Where the admin lives (no leading slash); on the fast path the only place sessions etc. run.
ADMIN_URL_PREFIX = "admin/"

# Outermost first: JSON errors, the access log's route, Host check (probes pass), static, CORS...
MIDDLEWARE = [
    "project.middleware.RequestRouteMiddleware",
    "project.middleware.JsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "project.middleware.AllowedHostsMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "accounts.middleware.AdminLoginThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if FAST_PATH:
    INSTALLED_APPS.append("fastpath")  # its system checks
    # Every middleware async-native, and the cookie-based ones for the admin only.
    MIDDLEWARE = [MIDDLEWARE_STAND_INS.get(path, path) for path in MIDDLEWARE]
    # Django's checks look for its exact classes; fastpath.E001, E002 check the stand-ins.
    SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL and IS_PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL is required when ENVIRONMENT=production.")
# A transaction-mode pooler (PgBouncer, Neon's, Supabase's): no startup options, no cursors.
DB_POOLER = env_choice("DB_POOLER", "auto", ("auto", "on", "off"))
DATABASE_POOL = PoolSettings(
    min_size=env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
    max_size=env_int("DB_POOL_MAX_SIZE", 10, minimum=1),
    timeout=env_float("DB_POOL_TIMEOUT", 3.0, minimum=0.1),
    connect_timeout=env_int("DB_CONNECT_TIMEOUT", 5, minimum=1),
    statement_timeout=env_float("DB_STATEMENT_TIMEOUT", 30.0, minimum=0),
    check=connection_check if FAST_PATH else ConnectionPool.check_connection,
    pooler={"auto": None, "on": True, "off": False}[DB_POOLER],
)
DATABASE = database_config_from_url(
    DATABASE_URL or "sqlite:///db.sqlite3", base_dir=BASE_DIR, pool=DATABASE_POOL
)
DATABASES = {"default": DATABASE.settings}
CONFIGURATION_WARNINGS += DATABASE.warnings
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and passwords ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email",)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# on: new passwords are also looked up in a k-anonymity range API (accounts.breached).
PWNED_PASSWORDS = env_bool("PWNED_PASSWORDS", False)
PWNED_PASSWORDS_URL = env_str("PWNED_PASSWORDS_URL", "https://api.pwnedpasswords.com").rstrip("/")
PWNED_PASSWORDS_TIMEOUT = env_float("PWNED_PASSWORDS_TIMEOUT", 2.0, minimum=0.1)
if PWNED_PASSWORDS:
    AUTH_PASSWORD_VALIDATORS.append({"NAME": "accounts.breached.BreachedPasswordValidator"})
# Hashes at once (within HASHER_MEMORY_MIB: accounts.hashing) and waiting; cores (Linux: affinity).
CPU_CORES = (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
HASHER_CONCURRENCY = env_int("HASHER_CONCURRENCY", CPU_CORES, minimum=1)
HASHER_MEMORY_MIB = env_int("HASHER_MEMORY_MIB", 1024, minimum=1)
HASHER_QUEUE = env_int("HASHER_QUEUE", 32, minimum=0)

# --- Second factor and audit -------------------------------------------------------------------
TOTP_ISSUER = env_str("TOTP_ISSUER", "Accounts")
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365, minimum=1)  # days `purge` keeps
# on: every staff member needs TOTP for the admin (set up at the login if missing).
ADMIN_REQUIRE_MFA = env_bool("ADMIN_REQUIRE_MFA", IS_PRODUCTION)

# --- Throttles -----------------------------------------------------------------------------------
RATE_LIMITS = env_bool("RATE_LIMITS", True)
# Each throttle's rate, `<count>/<period>`, with the defaults .env.example and the docs list.
RATE_LIMIT_SIGNUP = env_rate("RATE_LIMIT_SIGNUP", "10/h")
RATE_LIMIT_SIGNIN = env_rate("RATE_LIMIT_SIGNIN", "30/15m")
# Failed password checks: per email and IP, small; per email from anywhere, high (no lockout).
RATE_LIMIT_SIGNIN_FAILED = env_rate("RATE_LIMIT_SIGNIN_FAILED", "5/15m")
RATE_LIMIT_SIGNIN_FAILED_EMAIL = env_rate("RATE_LIMIT_SIGNIN_FAILED_EMAIL", "100/h")
RATE_LIMIT_PASSWORD_CHANGE = env_rate("RATE_LIMIT_PASSWORD_CHANGE", "10/h")
# Wrong second-factor codes, as for passwords: per user and client IP, and per user (larger).
RATE_LIMIT_MFA_FAILED = env_rate("RATE_LIMIT_MFA_FAILED", "10/15m")
RATE_LIMIT_MFA_FAILED_USER = env_rate("RATE_LIMIT_MFA_FAILED_USER", "50/h")
RATE_LIMIT_REFRESH = env_rate("RATE_LIMIT_REFRESH", "60/m")
RATE_LIMIT_ADMIN_LOGIN = env_rate("RATE_LIMIT_ADMIN_LOGIN", "10/15m")
RATE_LIMIT_PASSKEY_OPTIONS = env_rate("RATE_LIMIT_PASSKEY_OPTIONS", "100/15m")
# Requests that send email: per client IP, and per address it goes to (an account's or not).
RATE_LIMIT_PASSWORD_RESET = env_rate("RATE_LIMIT_PASSWORD_RESET", "10/h")
RATE_LIMIT_PASSWORD_RESET_EMAIL = env_rate("RATE_LIMIT_PASSWORD_RESET_EMAIL", "3/h")
RATE_LIMIT_VERIFY_RESEND = env_rate("RATE_LIMIT_VERIFY_RESEND", "10/h")
RATE_LIMIT_VERIFY_RESEND_EMAIL = env_rate("RATE_LIMIT_VERIFY_RESEND_EMAIL", "3/h")
RATE_LIMIT_EMAIL_CHANGE = env_rate("RATE_LIMIT_EMAIL_CHANGE", "10/h")
RATE_LIMIT_EMAIL_CHANGE_EMAIL = env_rate("RATE_LIMIT_EMAIL_CHANGE_EMAIL", "3/h")
RATE_LIMIT_EMAIL_CODE = env_rate("RATE_LIMIT_EMAIL_CODE", "20/h")
RATE_LIMIT_EMAIL_CODE_EMAIL = env_rate("RATE_LIMIT_EMAIL_CODE_EMAIL", "5/h")
THROTTLE_IPV6_PREFIX = env_int("THROTTLE_IPV6_PREFIX", 64, minimum=1, maximum=128)
REDIS_URL = env_str("REDIS_URL")

# --- Email and background tasks ------------------------------------------------------------------
# Django's EMAIL_* variable names, read into Django 6.1's one MAILERS entry (EMAIL_* are refused).
email_use_tls = env_bool("EMAIL_USE_TLS", False)
email_use_ssl = env_bool("EMAIL_USE_SSL", False)
email_options = {
    "host": env_str("EMAIL_HOST"),
    "port": env_int(
        "EMAIL_PORT", smtp_default_port(use_tls=email_use_tls, use_ssl=email_use_ssl), minimum=1
    ),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": email_use_tls,
    "use_ssl": email_use_ssl,
    # Django's default is no timeout at all: a stuck mail server would hold a worker forever.
    "timeout": env_float("EMAIL_TIMEOUT", 10.0, minimum=0.1),
}
if not email_options["host"] and IS_PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST is required when ENVIRONMENT=production.")
# Without EMAIL_HOST (development): the console; with LOG_FORMAT=json, the log (toolkit.mailers).
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
MAILERS = {"default": default_mailer(email_options, log_format=LOG_FORMAT)}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")

# database: a table `manage.py db_worker` runs (production); immediate: run after the commit.
tasks_backends = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND = env_choice(
    "TASKS_BACKEND", "database" if IS_PRODUCTION else "immediate", tasks_backends
)
TASKS = {"default": {"BACKEND": tasks_backends[TASKS_BACKEND], "QUEUES": ["default"]}}
if IS_PRODUCTION and TASKS_BACKEND == "immediate":
    CONFIGURATION_WARNINGS.append(
        "TASKS_BACKEND=immediate: email is sent from the request, and not retried."
    )
# Attempts per message in all, the first retry's delay (doubling, at most an hour; database only).
EMAIL_SEND_ATTEMPTS = env_int("EMAIL_SEND_ATTEMPTS", 12, minimum=1)
EMAIL_RETRY_DELAY = env_float("EMAIL_RETRY_DELAY", 30.0, minimum=0.1)
EMAIL_RETRY_LONGEST_DELAY = 3600.0

FRONTEND_URL = frontend_url("FRONTEND_URL", env_str("FRONTEND_URL", "http://localhost:3000"))
FRONTEND_VERIFY_EMAIL_URL = env_link(
    "FRONTEND_VERIFY_EMAIL_URL", "{FRONTEND_URL}/verify-email?token={token}", frontend=FRONTEND_URL
)
FRONTEND_RESET_PASSWORD_URL = env_link(
    "FRONTEND_RESET_PASSWORD_URL",
    "{FRONTEND_URL}/reset-password?token={token}",
    frontend=FRONTEND_URL,
)
FRONTEND_CONFIRM_EMAIL_CHANGE_URL = env_link(
    "FRONTEND_CONFIRM_EMAIL_CHANGE_URL",
    "{FRONTEND_URL}/confirm-email-change?token={token}",
    frontend=FRONTEND_URL,
)
if IS_PRODUCTION:
    CONFIGURATION_WARNINGS += plain_http_warnings(
        FRONTEND_VERIFY_EMAIL_URL=FRONTEND_VERIFY_EMAIL_URL,
        FRONTEND_RESET_PASSWORD_URL=FRONTEND_RESET_PASSWORD_URL,
        FRONTEND_CONFIRM_EMAIL_CHANGE_URL=FRONTEND_CONFIRM_EMAIL_CHANGE_URL,
    )
signin_code = "{FRONTEND_URL}/signin/code?email={email}"
FRONTEND_SIGNIN_CODE_URL = env_link(
    "FRONTEND_SIGNIN_CODE_URL", signin_code, frontend=FRONTEND_URL, fields=("email",)
)
EMAIL_VERIFY_TTL = env_int("EMAIL_VERIFY_TTL", 259_200, minimum=60)  # seconds, as below
PASSWORD_RESET_TTL = env_int("PASSWORD_RESET_TTL", 3600, minimum=60)
EMAIL_CHANGE_TTL = env_int("EMAIL_CHANGE_TTL", 86_400, minimum=60)
EMAIL_CODE_TTL = env_int("EMAIL_CODE_TTL", 600, minimum=60)
# on: mail a sign-in unlike the user's recent ones, with a link to the sessions page.
NOTIFY_NEW_DEVICE = env_bool("NOTIFY_NEW_DEVICE", True)
FRONTEND_SESSIONS_URL = env_link(
    "FRONTEND_SESSIONS_URL", "{FRONTEND_URL}/account", frontend=FRONTEND_URL, fields=()
)
# on: sign-in and refresh of a user whose address is not verified answer 403.
REQUIRE_VERIFIED_EMAIL = env_bool("REQUIRE_VERIFIED_EMAIL", False)
# Days a deleted account can be restored (its link) before `manage.py purge` erases it; 0: at once.
ACCOUNT_DELETION_GRACE_DAYS = env_int("ACCOUNT_DELETION_GRACE_DAYS", 14, minimum=0, maximum=3650)
restore_link = "{FRONTEND_URL}/restore-account?token={token}"
FRONTEND_RESTORE_ACCOUNT_URL = env_link(
    "FRONTEND_RESTORE_ACCOUNT_URL", restore_link, frontend=FRONTEND_URL
)
# Sign-in with another provider (docs/configuration.md); no API_PUBLIC_URL: the request's.
SOCIAL_PROVIDERS = identity_providers_from_env("SOCIAL_PROVIDERS", production=IS_PRODUCTION)
API_PUBLIC_URL = env_origin("API_PUBLIC_URL")
FRONTEND_SOCIAL_CALLBACK_URL = env_link(
    "FRONTEND_SOCIAL_CALLBACK_URL", "{FRONTEND_URL}/auth/callback", frontend=FRONTEND_URL, fields=()
)
WEBAUTHN_RP_ID = env_str("WEBAUTHN_RP_ID", url_host(FRONTEND_URL))  # the frontend (docs/api.md)
WEBAUTHN_RP_NAME = env_str("WEBAUTHN_RP_NAME", "Accounts")
WEBAUTHN_ORIGINS = env_origins("WEBAUTHN_ORIGINS", url_origin(FRONTEND_URL))
WEBAUTHN_CHALLENGE_TTL = env_int("WEBAUTHN_CHALLENGE_TTL", 300, minimum=10)
WEBAUTHN_MAX_PASSKEYS = env_int("WEBAUTHN_MAX_PASSKEYS", 10, minimum=1)

# --- Server (used by `make run`, i.e. `python -m server.serve`) ----------------------------------
PORT = env_int("PORT", 8081, minimum=1)
WORKERS = env_int("WORKERS", 1, minimum=1)
# Bounds for clients reaching uvicorn directly (server.protocol; see .env.example).
MAX_HEADER_BYTES = env_int("MAX_HEADER_BYTES", 65_536, minimum=1024)
HEADER_TIMEOUT = env_float("HEADER_TIMEOUT", 10.0, minimum=0.1)
KEEPALIVE_TIMEOUT = env_float("KEEPALIVE_TIMEOUT", 5.0, minimum=0.1)
LIMIT_CONCURRENCY = env_int("LIMIT_CONCURRENCY", 1000, minimum=1)
# Seconds the requests in flight get after SIGTERM; readiness fails from it on (server.draining).
SHUTDOWN_TIMEOUT = env_float("SHUTDOWN_TIMEOUT", 20.0, minimum=0)

# --- Metrics: unset, no metrics and /metrics is a 404; set, Prometheus's bearer token ----------
METRICS_TOKEN = env_str("METRICS_TOKEN")
# Where worker processes keep metric values together; unset: made as needed (server).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")

# --- HTTP ----------------------------------------------------------------------------------------
MAX_BODY_BYTES = env_int("MAX_BODY_BYTES", 1_048_576, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
READINESS_TIMEOUT = env_float("READINESS_TIMEOUT", 2.0, minimum=0.1)
APPEND_SLASH = False
NINJA_PAGINATION_PER_PAGE = 50  # GET /api/auth/events: the default page, and the largest
NINJA_PAGINATION_MAX_LIMIT = 200

# --- Static files (the admin's, and ninja's offline API docs) ------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
SERVESTATIC_USE_FINDERS = not IS_PRODUCTION  # served from the apps: no collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Logging -------------------------------------------------------------------------------------
LOG_LEVEL = env_choice(
    "LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical")
).upper()
# One format for every logger of the process, uvicorn's included (server.logging).
LOGGING = logging_config(
    level=LOG_LEVEL,
    log_format=LOG_FORMAT,
    service_loggers=("project", "accounts", "health", "mfa", "audit", "social", "passkeys"),
)
