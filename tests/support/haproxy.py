"""HAProxy from deploy/haproxy.cfg, with only the addresses changed: the frontend's `bind`, one
`server` line per instance (the example's options kept), the stats socket. Its runtime API
says which instances it sees up."""

import csv
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.pgcluster import free_port
from tests.support.process import Process, system_binary

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
BACKEND = "app"


class HAProxyUnavailable(Exception):
    """haproxy is not installed."""


def haproxy_binary() -> str:
    return system_binary("haproxy", HAProxyUnavailable)


def render(template: str, *, port: int, servers: list[int], socket_path: Path) -> str:
    """The example with its addresses replaced: `bind` on 127.0.0.1:port, the server lines
    `app1..appN` on the given ports with the first example server's options, the stats socket
    at socket_path."""
    lines: list[str] = []
    server_options = ""
    servers_written = False
    for line in template.splitlines():
        words = line.split()
        indent = line[: len(line) - len(line.lstrip())]
        if words[:1] == ["bind"]:
            lines.append(f"{indent}bind 127.0.0.1:{port}")
        elif words[:2] == ["stats", "socket"]:
            lines.append(f"{indent}stats socket {socket_path} {' '.join(words[3:])}".rstrip())
        elif words[:1] == ["server"]:
            server_options = server_options or " ".join(words[3:])
            if not servers_written:
                servers_written = True
                for number, server_port in enumerate(servers, start=1):
                    lines.append(
                        f"{indent}server app{number} 127.0.0.1:{server_port} {server_options}"
                    )
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class HAProxy:
    servers: list[int]
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="haproxy-")))
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.directory / "admin.sock"

    def config(self) -> str:
        return render(
            DEPLOY_CONFIG.read_text(),
            port=self.port,
            servers=self.servers,
            socket_path=self.socket_path,
        )

    def start(self) -> "HAProxy":
        config = self.directory / "haproxy.cfg"
        config.write_text(self.config())
        command = [haproxy_binary(), "-db", "-f", str(config)]
        self.process = Process("haproxy", command, self.directory / "haproxy.log").start()
        self.process.wait_for_port(self.port, timeout=10)
        return self

    def command(self, line: str) -> str:
        """One command on the runtime API (the stats socket)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.socket_path))
            connection.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self) -> dict[str, str]:
        """{"app1": "UP", "app2": "DOWN", ...}: what the health checks concluded."""
        rows = csv.DictReader(self.command("show stat").lstrip("# ").splitlines())
        return {
            row["svname"]: row["status"].split()[0]
            for row in rows
            if row["pxname"] == BACKEND and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_for_states(self, wanted: dict[str, str], timeout: float = 30) -> float:
        """Wait until every named server is in the wanted state; return when it was seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.server_states()
            if all(states.get(name) == state for name, state in wanted.items()):
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"HAProxy saw {self.server_states()}, not {wanted}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(signal.SIGTERM, timeout=10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
