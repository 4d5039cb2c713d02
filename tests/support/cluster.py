"""The service as an operator runs it on one machine: instances of `python -m server.serve`
(what `make run` serves) behind HAProxy, the task worker, PgBouncer in transaction mode in front
of PostgreSQL, Redis for the throttles. The configurations are deploy/haproxy.cfg and
deploy/pgbouncer.ini, with only their addresses changed.

`python -m tests.support.cluster` (`make cluster`) starts one on a throwaway PostgreSQL and
stops everything on Ctrl-C; tests/deploy/ and bench/cluster.py drive the same class.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.support.haproxy import HAProxy
from tests.support.pgbouncer import PgBouncer
from tests.support.pgcluster import SUPERUSER, Cluster, free_port, start_cluster
from tests.support.process import Process, ProcessFailed
from tests.support.redis import RedisServer

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE = "accounts"
# Seconds an instance gets to drain on SIGTERM: what a test waits for, at most.
SHUTDOWN_TIMEOUT = 10


def served_module() -> str:
    """The module `make run` serves (its recipe's `$(PY) -m MODULE` line), read from the
    Makefile so that the cluster's instances never drift from what `make run` starts."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    modules = re.findall(r"\$\(PY\) -m (\S+)", recipe.group(1) if recipe else "")
    if not modules:
        raise ProcessFailed("the Makefile's run target starts no `$(PY) -m MODULE`")
    return str(modules[-1])


@dataclass
class Instance:
    """One `python -m server.serve` (what `make run` serves) on its own port, with WORKERS
    processes behind it."""

    number: int
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def name(self) -> str:
        return f"app{self.number}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Instance":
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        command = [sys.executable, "-m", served_module()]
        self.process = Process(self.name, command, self.log, env=env, cwd=ROOT).start()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.running():
                raise self.process.failed("exited")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise self.process.failed(f"was not ready within {timeout:g} s")

    def stop(self) -> int | None:
        """SIGTERM: the instance drains (readiness fails at once) and exits."""
        return self.process.stop(signal.SIGTERM, SHUTDOWN_TIMEOUT + 10) if self.process else None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def restart(self) -> None:
        self.stop()
        self.start().wait_ready()


@dataclass
class ClusterOptions:
    instances: int = 3
    workers: int = 1
    # PgBouncer between the service and PostgreSQL, and Redis for the throttles.
    pgbouncer: bool = True
    redis: bool = True
    task_worker: bool = True
    # "tests": tests.settings (a cheap hasher, mail kept in memory); "project": what `make run`
    # serves (ENVIRONMENT=development unless the environment says otherwise).
    settings: str = "tests"
    # The service's database URL when PostgreSQL is not ours (a primary and its standby).
    database_url: str = ""
    environment: dict[str, str] = field(default_factory=dict)


def base_environment(settings: str) -> dict[str, str]:
    """The caller's environment without any database or Django settings of its own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "TEST_SERVER_DATABASE_URL", "DJANGO_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    if settings == "tests":
        env.update(ENVIRONMENT="test", DJANGO_SETTINGS_MODULE="tests.settings")
    else:
        env.setdefault("ENVIRONMENT", "development")
        env["DJANGO_SETTINGS_MODULE"] = "project.settings"
    return env


class ServiceCluster:
    def __init__(self, options: ClusterOptions, directory: Path | None = None) -> None:
        self.options = options
        self.directory = directory or Path(tempfile.mkdtemp(prefix="accounts-cluster-"))
        # PgBouncer runs as the postgres user when we are root: it must reach its directory.
        self.directory.chmod(0o711)
        self.postgres: Cluster | None = None
        self.pgbouncer: PgBouncer | None = None
        self.redis: RedisServer | None = None
        self.instances: list[Instance] = []
        self.task_worker: Process | None = None
        self.haproxy: HAProxy | None = None

    # --- Where things are --------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.haproxy is not None
        return self.haproxy.url

    @property
    def service_database_url(self) -> str:
        """The URL the instances, migrations and the worker use."""
        if self.options.database_url:
            return self.options.database_url
        if self.pgbouncer is not None:
            return self.pgbouncer.url(DATABASE)
        assert self.postgres is not None
        return self.postgres.url(DATABASE)

    def environment(self) -> dict[str, str]:
        env = base_environment(self.options.settings)
        variable = (
            "TEST_SERVER_DATABASE_URL" if self.options.settings == "tests" else "DATABASE_URL"
        )
        env[variable] = self.service_database_url
        env.update(
            WORKERS=str(self.options.workers),
            # HAProxy adds the client's address (option forwardfor); throttles count that.
            CLIENT_IP_HEADER="X-Forwarded-For",
            TASKS_BACKEND="database",
            SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT),
            DB_POOLER="on" if self.pgbouncer is not None else "off",
            REDIS_URL=self.redis.url if self.redis is not None else "",
        )
        env.update(self.options.environment)
        return env

    # --- Start and stop ----------------------------------------------------------------------
    def start(
        self, report: Callable[[str], None] = lambda line: None, haproxy_port: int = 0
    ) -> "ServiceCluster":
        try:
            self.start_database(report)
            if self.options.redis:
                self.redis = RedisServer(self.directory).start()
                report(f"Redis on {self.redis.url}")
            self.manage("migrate", "--noinput", timeout=180)
            report("Migrations applied through " + ("PgBouncer" if self.pgbouncer else "libpq"))
            env = self.environment()
            self.instances = [
                Instance(number, env, self.directory / f"app{number}.log")
                for number in range(1, self.options.instances + 1)
            ]
            for instance in self.instances:
                instance.start()
            with ThreadPoolExecutor(len(self.instances)) as pool:
                list(pool.map(lambda instance: instance.wait_ready(), self.instances))
            report(f"{len(self.instances)} instances ready, {self.options.workers} worker(s) each")
            if self.options.task_worker:
                self.task_worker = self.start_task_worker()
            (self.directory / "haproxy").mkdir()
            self.haproxy = HAProxy(
                [instance.port for instance in self.instances],
                port=haproxy_port or free_port(),
                directory=self.directory / "haproxy",
            )
            self.haproxy.start()
            self.haproxy.wait_for_states({instance.name: "UP" for instance in self.instances})
        except BaseException:
            self.stop()
            raise
        return self

    def start_database(self, report: Callable[[str], None]) -> None:
        if self.options.database_url:
            return
        self.postgres = start_cluster()
        with psycopg.connect(self.postgres.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
            # As docs/deployment-cluster.md says: set what a pooler cannot send at start-up.
            connection.execute(f"ALTER DATABASE {DATABASE} SET timezone = 'UTC'")
            connection.execute(f"ALTER ROLE {SUPERUSER} SET statement_timeout = '30s'")
        report(f"PostgreSQL on port {self.postgres.port} (throwaway, in {self.postgres.directory})")
        if self.options.pgbouncer:
            (self.directory / "pgbouncer").mkdir()
            self.pgbouncer = PgBouncer(
                server_port=self.postgres.port,
                user=SUPERUSER,
                password=self.postgres.password,
                databases=[DATABASE],
                directory=self.directory / "pgbouncer",
            ).start()
            report(f"PgBouncer (transaction mode) on port {self.pgbouncer.port}")

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A manage.py command with the instances' environment; fails loudly."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ProcessFailed(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result

    def start_task_worker(self) -> Process:
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.5"]
        log = self.directory / "task-worker.log"
        worker = Process("task worker", command, log, env=self.environment(), cwd=ROOT).start()
        time.sleep(0.5)
        if not worker.running():
            raise worker.failed("exited")
        return worker

    def stop(self) -> None:
        """Everything, front to back; nothing is left running, whatever failed on the way."""
        steps: list[Callable[[], Any]] = []
        if self.haproxy is not None:
            steps.append(self.haproxy.stop)
        if self.instances:
            steps.append(self.instances_stop)
        if self.task_worker is not None:
            steps.append(lambda: self.task_worker and self.task_worker.stop(signal.SIGTERM, 20))
        if self.redis is not None:
            steps.append(self.redis.stop)
        if self.pgbouncer is not None:
            steps.append(self.pgbouncer.stop)
        if self.postgres is not None:
            steps.append(self.postgres.remove)
        for step in steps:
            try:
                step()
            except Exception as error:
                print(f"stopping: {error}", file=sys.stderr)

    def instances_stop(self) -> None:
        """All at once: each drains on its own."""
        with ThreadPoolExecutor(len(self.instances)) as pool:
            list(pool.map(lambda instance: instance.stop(), self.instances))

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- What the database holds -------------------------------------------------------------
    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Straight to PostgreSQL (not through PgBouncer nor the service)."""
        url = self.postgres.url(DATABASE) if self.postgres else self.options.database_url
        with psycopg.connect(url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def emails(self) -> set[str]:
        return {row[0] for row in self.query("SELECT email FROM accounts_user")}

    def logs(self) -> str:
        """Every instance's log, for the assertion messages of a failed test."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.directory.glob("*.log"))
        )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="make cluster: the service behind HAProxy")
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port (0: any free)")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS") or 1))
    arguments = parser.parse_args()
    port = arguments.port or free_port()
    from tests.support.process import port_open

    if port_open(port):
        raise SystemExit(f"Port {port} is taken: make cluster CLUSTER_PORT=8090 picks another.")

    def stop_on_signal(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_signal)
    options = ClusterOptions(
        instances=arguments.instances, workers=arguments.workers, settings="project"
    )
    cluster = ServiceCluster(options)
    print(f"Starting in {cluster.directory} (logs there); Ctrl-C stops everything.", flush=True)
    try:
        cluster.start(report=lambda line: print(f"  {line}", flush=True), haproxy_port=port)
        print(f"  Task worker (manage.py db_worker), log in {cluster.directory}")
        for instance in cluster.instances:
            print(f"  {instance.name}: {instance.url} (log {instance.log.name})")
        print(f"\nReady: {cluster.url}  (try: curl {cluster.url}/health/ready)", flush=True)
        print("Its database is thrown away on exit.", flush=True)
        reported: set[str] = set()
        while True:  # until Ctrl-C; an instance that dies is reported, and the others go on
            time.sleep(1)
            for instance in cluster.instances:
                exited = instance.process is not None and not instance.process.running()
                if exited and instance.name not in reported:
                    reported.add(instance.name)
                    print(f"  {instance.name} exited; HAProxy sends its requests elsewhere.")
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        cluster.remove()
        print("Stopped; nothing left running.", flush=True)


if __name__ == "__main__":
    main()
