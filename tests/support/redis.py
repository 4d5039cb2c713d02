"""A throwaway redis-server on loopback, without persistence: stopped and started at will."""

import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.pgcluster import free_port
from tests.support.process import Process


class RedisUnavailable(Exception):
    """redis-server is not installed."""


@dataclass
class RedisServer:
    directory: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("redis-server is not installed")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = Process("redis-server", command, self.directory / "redis.log").start()
        self.process.wait_for_port(self.port, timeout=10)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(signal.SIGTERM, timeout=10)
