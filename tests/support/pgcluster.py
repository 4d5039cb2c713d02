"""Throwaway PostgreSQL clusters for tests and benchmarks: made in /tmp, TLS on, removed after.

PostgreSQL refuses to run as root, so as root every server command runs as the `postgres` user.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.certificates import CertificateUnavailable, self_signed_certificate

SUPERUSER = "postgres"


class ClusterUnavailable(Exception):
    """No PostgreSQL server binaries here, or the cluster would not start."""


def server_bin_dir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ClusterUnavailable("no PostgreSQL server binaries (initdb) found")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """One PostgreSQL server. `url()` gives a DSN; `stop()`/`start()` simulate an outage."""

    password: str = "test-password-not-secret"
    port: int = field(default_factory=free_port)
    ssl: bool = True
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgtest-")))

    def __post_init__(self) -> None:
        self.bin = server_bin_dir()
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"

    def as_server_user(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SUPERUSER, "--", *command]
        return list(command)

    def run(self, *command: str) -> None:
        result = subprocess.run(
            self.as_server_user(*command), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()}"
            )

    def create(self) -> "Cluster":
        if os.geteuid() == 0:
            shutil.chown(self.directory, SUPERUSER)
        self.directory.chmod(0o700)
        password_file = self.directory / "password"
        password_file.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(password_file, SUPERUSER)
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            f"--pwfile={password_file}",
        )
        settings = [
            "listen_addresses = '127.0.0.1,::1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.directory}'",
            "max_connections = 200",
            "fsync = off",  # a throwaway cluster: speed over durability
            "synchronous_commit = off",
            "full_page_writes = off",
        ]
        if self.ssl:
            self.make_certificate()
            settings += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        return self

    def make_certificate(self) -> None:
        try:
            key, cert = self_signed_certificate(self.data, "server")
        except CertificateUnavailable as error:
            raise ClusterUnavailable(str(error)) from error
        if os.geteuid() == 0:
            shutil.chown(key, SUPERUSER)
            shutil.chown(cert, SUPERUSER)

    def start(self) -> "Cluster":
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str = "postgres", query: str = "", host: str = "127.0.0.1") -> str:
        suffix = f"?{query}" if query else ""
        return f"postgresql://{SUPERUSER}:{self.password}@{host}:{self.port}/{database}{suffix}"

    def version(self) -> str:
        output = subprocess.run(
            [str(self.bin / "postgres"), "--version"], capture_output=True, text=True, check=False
        )
        return output.stdout.strip()


def start_cluster(**options: object) -> Cluster:
    cluster = Cluster(**options)  # type: ignore[arg-type]
    try:
        cluster.create().start()
    except BaseException:
        cluster.remove()
        raise
    deadline = time.monotonic() + 10
    while not (cluster.data / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return cluster
