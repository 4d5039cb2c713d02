"""Settings for the test run: project settings, the test database, a cheaper hasher."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("ENVIRONMENT", "test")
# The generated development key of test runs (and of the servers and manage.py they start) lives
# in a temporary file, never in the repository's .secrets/.
os.environ.setdefault(
    "DEVELOPMENT_SECRET_FILE",
    str(Path(tempfile.gettempdir()) / f"accounts-test-{os.getuid()}" / "development.key"),
)

from project.database import database_config_from_url
from project.settings import *  # noqa: F403
from project.settings import BASE_DIR, DATABASE_POOL, MIDDLEWARE, PASSWORD_HASHERS, ROOT_URLCONF
from toolkit.env import blank_library_variables_unset, env_bool

# What the entry points do (toolkit.env.entry_environment_prepare), but never reading `.env`.
blank_library_variables_unset()

# pytest gets TEST_DATABASE_URL (a server to create the test database on, or sqlite:///FILE);
# a live server started by a test gets TEST_SERVER_DATABASE_URL, the test database itself.
# DATABASE_URL, which may be production's, is never used here.
SQLITE_TEST_FILE = Path(tempfile.gettempdir()) / f"accounts-test-{os.getuid()}.sqlite3"
TEST_URL = (
    os.environ.get("TEST_SERVER_DATABASE_URL")
    or os.environ.get("TEST_DATABASE_URL")
    or f"sqlite:///{SQLITE_TEST_FILE}"
)
DATABASE = database_config_from_url(TEST_URL, base_dir=BASE_DIR, pool=DATABASE_POOL)
if not DATABASE.is_postgresql:
    # A file, not memory: live servers in subprocesses must see the same database.
    DATABASE.settings["TEST"] = {"NAME": str(DATABASE.settings["NAME"])}
DATABASES = {"default": DATABASE.settings}

# A cheap Argon2, except for a live server started with TEST_PRODUCTION_HASHER=1 (overload tests).
if not env_bool("TEST_PRODUCTION_HASHER", False):
    PASSWORD_HASHERS = ["tests.support.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS]

# Throttles are off except in the tests about them, which turn them on (or pass RATE_LIMITS=on
# to a live server).
RATE_LIMITS = env_bool("RATE_LIMITS", False)

MIDDLEWARE = ["tests.support.middleware.WorkerPidMiddleware", *MIDDLEWARE]

# A live server may add test views (TEST_ROOT_URLCONF=tests.support.live_slow_urls: slow requests).
ROOT_URLCONF = os.environ.get("TEST_ROOT_URLCONF") or ROOT_URLCONF

# Without a mail server, development prints messages on the console; a live server started by a
# test must write only log lines there (tests read them), so its messages stay in memory.
if not os.environ.get("EMAIL_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
