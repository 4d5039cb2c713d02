"""PgBouncer from deploy/pgbouncer.ini, with only where things are changed: the databases it
fronts, the address it listens on, its auth_file. Run as the postgres user when we are root
(PgBouncer refuses root)."""

import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.support.pgcluster import SUPERUSER, free_port
from tests.support.process import Process, system_binary

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY_CONFIG = ROOT / "deploy" / "pgbouncer.ini"


class PgBouncerUnavailable(Exception):
    """pgbouncer is not installed."""


def pgbouncer_binary() -> str:
    return system_binary("pgbouncer", PgBouncerUnavailable)


def render(template: str, *, databases: dict[str, str], settings: dict[str, str]) -> str:
    """The example with its [databases] entries replaced and the given [pgbouncer] settings
    set (in place when the example has them, appended otherwise); comments and every other
    setting are kept as they are."""
    lines: list[str] = []
    section = ""
    written: set[str] = set()

    def finish_section() -> None:
        if section == "pgbouncer":
            lines.extend(
                f"{key} = {value}" for key, value in settings.items() if key not in written
            )

    for line in template.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            finish_section()
            section = stripped.strip("[]")
            lines.append(line)
            if section == "databases":
                lines.extend(f"{name} = {value}" for name, value in databases.items())
            continue
        setting = stripped and not stripped.startswith((";", "#")) and "=" in stripped
        if setting and section == "databases":
            continue
        if setting and section == "pgbouncer":
            key = stripped.split("=", 1)[0].strip()
            if key in settings:
                lines.append(f"{key} = {settings[key]}")
                written.add(key)
                continue
        lines.append(line)
    finish_section()
    return "\n".join(lines) + "\n"


def settings_of(config: str) -> dict[str, str]:
    """The [pgbouncer] settings of a configuration, for comparing the example with a rendering."""
    found: dict[str, str] = {}
    section = ""
    for line in config.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]")
        elif section == "pgbouncer" and "=" in stripped and not stripped.startswith(";"):
            key, value = stripped.split("=", 1)
            found[key.strip()] = value.strip()
    return found


@dataclass
class PgBouncer:
    """In front of one PostgreSQL server; `databases` maps the names clients ask for to the
    server's databases ("*" passes any name through, as the test suite's run needs)."""

    server_port: int
    user: str
    password: str
    databases: list[str]
    server_host: str = "127.0.0.1"
    overrides: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgbouncer-")))
    process: Process | None = None

    def url(self, database: str) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{database}"
        )

    def config(self) -> str:
        where = f"host={self.server_host} port={self.server_port}"
        databases = {
            name: where if name == "*" else f"{where} dbname={name}" for name in self.databases
        }
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": str(self.port),
            "auth_file": str(self.directory / "userlist.txt"),
            **self.overrides,
        }
        return render(DEPLOY_CONFIG.read_text(), databases=databases, settings=settings)

    def start(self) -> "PgBouncer":
        binary = pgbouncer_binary()
        as_root = os.geteuid() == 0
        config = self.directory / "pgbouncer.ini"
        config.write_text(self.config())
        userlist = self.directory / "userlist.txt"
        userlist.write_text(f'"{self.user}" "{self.password}"\n')
        for path in (self.directory, config, userlist):
            path.chmod(0o700 if path.is_dir() else 0o600)
            if as_root:
                shutil.chown(path, SUPERUSER)
        command = [binary, str(config)]
        if as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        self.process = Process("pgbouncer", command, self.directory / "pgbouncer.log").start()
        self.process.wait_for_port(self.port, timeout=15)
        return self

    def stop(self) -> None:
        """SIGTERM: PgBouncer's immediate shutdown, as `systemctl stop` does it."""
        if self.process is not None:
            self.process.stop(signal.SIGTERM, timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
