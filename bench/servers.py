"""The servers a benchmark measures: PostgreSQL, this service in its variants, the yardsticks."""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.pgcluster import free_port, start_cluster

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT.parent / "shared" / "peer" / "run"
DRF_PEER = ROOT.parent / "shared" / "peer" / "drf" / "run"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark user's password
# One key for every server of a run: a token made on one is valid on the next.
SECRET_KEY = "bench-" + secrets.token_urlsafe(48)
SERVER_CPU = "0"


class Server:
    """A uvicorn process (ours or the yardstick's), stopped on exit."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 300  # the yardstick builds its venv on first use
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("server did not start")

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def peak_memory_mib(self) -> float:
        total = 0.0
        for pid in [self.process.pid, *children(self.process.pid)]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def our_server(database_url: str, *, pin: bool, workers: int = 1, **env: str) -> Server:
    port = free_port()
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "project.asgi:application",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        # As `make run` serves (server/serve.py).
        "--no-proxy-headers",
        "--no-server-header",
        "--http",
        "server.protocol:BoundedHttpToolsProtocol",
        "--log-level",
        "warning",
    ]
    if pin:
        command = ["taskset", "-c", SERVER_CPU, *command]
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "ENVIRONMENT"))},
        "DATABASE_URL": database_url,
        "RATE_LIMITS": "off",
        # As production queues email: a request that sends mail only inserts a task row.
        "TASKS_BACKEND": "database",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": SECRET_KEY,
        **env,
    }
    return Server(command, environment, port)


def peer_server(script: Path, database_url: str) -> Server:
    port = free_port()
    return Server(
        [str(script), str(port), database_url, SERVER_CPU],
        {**os.environ, "LOG_LEVEL": "warning", "SECRET_KEY": SECRET_KEY},
        port,
    )


@contextmanager
def side_by_side(
    ours_url: str, base_url: str, *, production: bool, stock: bool, peer: bool
) -> Iterator[dict[str, Server]]:
    """Ours and each variant and yardstick asked for (those in ../shared/peer when present), one
    worker each pinned to the server core, by name; all stopped after."""
    servers = {"ours": our_server(ours_url, pin=True)}
    metrics_directory = tempfile.mkdtemp(prefix="bench-metrics-")
    try:
        if production:
            # As production runs: a JSON access line per request (with its request id), and
            # metrics (METRICS_TOKEN: values in memory-mapped files).
            servers["production"] = our_server(
                ours_url,
                pin=True,
                LOG_LEVEL="INFO",
                LOG_FORMAT="json",
                METRICS_TOKEN=secrets.token_urlsafe(16),
                PROMETHEUS_MULTIPROC_DIR=metrics_directory,
            )
        if stock:
            servers["stock"] = our_server(ours_url, pin=True, FAST_PATH="off")
        if peer and PEER.exists():
            servers["FastAPI"] = peer_server(PEER, create_database(base_url, "bench_peer"))
        if peer and DRF_PEER.exists():
            servers["DRF"] = peer_server(DRF_PEER, create_database(base_url, "bench_drf"))
        yield servers
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(metrics_directory, ignore_errors=True)


@contextmanager
def postgresql() -> Iterator[tuple[str, str]]:
    """The URL of a PostgreSQL server and what it is: BENCH_DATABASE_URL's, else a throwaway
    cluster's, removed after."""
    base_url = os.environ.get("BENCH_DATABASE_URL")
    if base_url:
        yield base_url, base_url.split("@")[-1]
        return
    cluster = start_cluster(ssl=False)
    try:
        yield cluster.url(), cluster.version()
    finally:
        cluster.remove()


def create_database(cluster_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"


def django_shell(database_url: str, code: str) -> str:
    """Run `code` in `manage.py shell` against `database_url`; what it printed."""
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "development"},
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout


def migrated_database(base_url: str) -> str:
    """This service's database, made afresh on that server and migrated: its URL."""
    ours_url = create_database(base_url, "bench_service")
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        check=False,
        env={**os.environ, "DATABASE_URL": ours_url, "ENVIRONMENT": "development"},
    )
    if migrate.returncode:
        raise SystemExit("migrate failed")
    return ours_url


def session_for(server: Server, email: str) -> dict:
    response = httpx.post(
        f"{server.url}/api/auth/signup", json={"email": email, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def totp_user_for(server: Server, database_url: str, email: str) -> None:
    """A user with TOTP on: their sign-ins answer the challenge (the password hashed once). The
    address is marked verified in the database first (a second factor needs a verified address;
    the bench reads no mail)."""
    import pyotp

    bearer = {"Authorization": f"Bearer {session_for(server, email)['access_token']}"}
    django_shell(
        database_url,
        "from accounts.models import User; "
        f"User.objects.filter(email={email!r}).update(email_verified=True)",
    )
    setup = httpx.post(f"{server.url}/api/auth/mfa/totp/setup", headers=bearer, timeout=30)
    setup.raise_for_status()
    code = pyotp.TOTP(setup.json()["secret"]).now()
    httpx.post(
        f"{server.url}/api/auth/mfa/totp/confirm", json={"code": code}, headers=bearer, timeout=30
    ).raise_for_status()
