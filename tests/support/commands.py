"""Running the project's entry points in subprocesses with a controlled environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def documented_variables() -> list[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a clean environment: every documented variable blank unless given, so a
    developer's own .env (which manage.py reads, never overriding) cannot change the outcome."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    environment.update(dict.fromkeys(documented_variables(), ""))
    # Except what this run says about its own database (tests/postgres_plugin.py: through
    # PgBouncer, DB_POOLER=on).
    if os.environ.get("DB_POOLER"):
        environment["DB_POOLER"] = os.environ["DB_POOLER"]
    # The test run's development key file (tests/settings.py), not the repository's.
    environment["DEVELOPMENT_SECRET_FILE"] = os.environ.get("DEVELOPMENT_SECRET_FILE", "")
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
