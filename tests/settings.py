"""Settings for the test run: project settings, the test database, a cheaper hasher."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("ENVIRONMENT", "test")

from project.settings import *  # noqa: E402, F403
from project.settings import BASE_DIR, DATABASE_POOL, PASSWORD_HASHERS  # noqa: E402
from project.database import database_config_from_url  # noqa: E402

# A live server started by a test gets the test database's own URL; pytest itself gets the
# server to create test databases on. DATABASE_URL (maybe production's) is never used here.
TEST_URL = os.environ.get("TEST_SERVER_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
if TEST_URL:
    DATABASE = database_config_from_url(TEST_URL, base_dir=BASE_DIR, pool=DATABASE_POOL)
else:
    sqlite_file = Path(tempfile.gettempdir()) / f"accounts-test-{os.getuid()}.sqlite3"
    DATABASE = database_config_from_url(
        f"sqlite:///{sqlite_file}", base_dir=BASE_DIR, pool=DATABASE_POOL
    )
    DATABASE.settings["TEST"] = {"NAME": str(sqlite_file)}
DATABASES = {"default": DATABASE.settings}

PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS]

# Throttles are off except in the tests about them, which turn them on.
RATE_LIMITS = False
