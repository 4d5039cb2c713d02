"""One long-running program in its own session, its output in a log file: started, waited for,
signalled, stopped (never leaving a child behind)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class ProcessFailed(Exception):
    """The program exited, or did not come up in time; the message ends with its log's tail."""


def system_binary(name: str, unavailable: type[Exception]) -> str:
    """A program from PATH, or from the system directories a root shell may leave off PATH
    (Debian puts haproxy and pgbouncer in /usr/sbin); `unavailable` when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise unavailable(f"{name} is not installed")
    return found


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class Process:
    """A command run in a new session, so that signals reach it and everything it starts."""

    name: str
    command: list[str]
    log: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> "Process":
        with self.log.open("ab") as output:
            self.popen = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def failed(self, why: str) -> ProcessFailed:
        return ProcessFailed(f"{self.name} {why}; the end of {self.log}:\n{log_tail(self.log)}")

    def wait_for_port(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise self.failed("exited")
            if port_open(port):
                return
            time.sleep(0.05)
        raise self.failed(f"did not listen on port {port} within {timeout:g} s")

    def send_signal(self, number: int) -> None:
        """To the whole session: the program and anything it started (runuser's child, uvicorn's
        workers)."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, number)

    def wait(self, timeout: float) -> int | None:
        assert self.popen is not None
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Ask it to stop; after `timeout` seconds, kill it. Its session is killed either way,
        so no orphan outlives it. Returns its exit status."""
        if self.popen is None:
            return None
        status = self.popen.poll()
        if status is None:
            self.send_signal(sig)
            status = self.wait(timeout)
        if status is None:
            self.send_signal(signal.SIGKILL)
            status = self.wait(10)
        # Whatever it started and left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        return status

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
        self.wait(10)
