"""`make run`: serve `project.asgi:application` with uvicorn on HOST:PORT with WORKERS processes.

Plain `uvicorn project.asgi:application --port 8081 --workers N --no-proxy-headers
--no-access-log --timeout-graceful-shutdown 20 --http server.protocol:BoundedHttpToolsProtocol`
does nearly the same (README); this reads HOST, PORT, WORKERS and the rest from the environment
or `.env` first, and also:

- hands uvicorn the service's own logging configuration (settings.LOGGING), so uvicorn's lines
  have the same format as everyone else's (`LOG_FORMAT=json`: one JSON object a line) from its
  very first line, in the supervisor and in every worker;
- turns off uvicorn's access log: the service writes its own (project.access: route template,
  request id, user; never a query string);
- with METRICS_TOKEN, makes the directory where the workers keep their metric values together
  (prometheus-client's multiprocess mode) and removes it on exit.

The protocol bounds request heads (MAX_HEADER_BYTES, HEADER_TIMEOUT), idle connections
(KEEPALIVE_TIMEOUT) and open connections (LIMIT_CONCURRENCY); SHUTDOWN_TIMEOUT bounds how long
requests in flight get after SIGTERM.
"""

import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType

import uvicorn
from django.core.exceptions import ImproperlyConfigured
from uvicorn.main import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from server import metrics_directory
from toolkit.env import entry_environment_prepare

APPLICATION = "project.asgi:application"


exiting = False


def exit_cleanly(number: int, frame: FrameType | None) -> None:
    # Once: a second signal (the supervisor passes SIGTERM on twice) must not cut short the
    # exit handlers the first one started (the log writer draining its queue).
    global exiting
    if not exiting:
        exiting = True
        raise SystemExit(0)


def exit_cleanly_on_signals() -> None:
    """uvicorn handles SIGTERM and SIGINT while it serves, then raises the signal again once it
    has shut down gracefully, which by default would end the process on the spot: before the
    `finally` below removes the metrics directory, and before the log's writer thread has
    written the last lines (server.logging.BackgroundHandler). Any such signal outside
    uvicorn's own handling ends the process through Python instead (SystemExit, status 0), and
    the process's exit handlers run."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, exit_cleanly)


class ServeConfig(uvicorn.Config):
    """uvicorn's configuration, and in each worker process (which configures its logging first
    thing, before its server starts) the clean exit on signals as in the supervisor."""

    def configure_logging(self) -> None:
        super().configure_logging()
        if threading.current_thread() is threading.main_thread():
            exit_cleanly_on_signals()


class DrainingSupervisor(Multiprocess):
    """uvicorn's supervisor, except that SIGTERM (and SIGINT) reach the workers at once.

    uvicorn's supervisor queues the signal and looks at its queue every half second before it
    passes SIGTERM on; meanwhile every worker would go on saying "ready". Here the handler still
    queues it (uvicorn's shutdown then runs as before: terminate, join, exit) and also passes it
    on to each worker right away, which starts draining (server.draining). From then on a worker
    that exits is not replaced: uvicorn's loop could otherwise find it gone before it reads its
    queue and start a new one in the middle of the shutdown. A second SIGTERM from the
    supervisor changes nothing for a worker already draining.
    """

    terminating = False

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.terminate_now)

    def terminate_now(self, number: int, frame: FrameType | None) -> None:
        self.terminating = True
        self.signal_queue.append(number)
        for process in self.processes:
            process.terminate()

    def keep_subprocess_alive(self) -> None:
        if not self.terminating:
            super().keep_subprocess_alive()


def supervise(config: uvicorn.Config) -> None:
    """`uvicorn.run` with several workers, through DrainingSupervisor."""
    DrainingSupervisor(config, sockets=[config.bind_socket()]).run()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    entry_environment_prepare(Path(__file__).resolve().parent.parent)
    try:
        from django.conf import settings

        host, port, workers = settings.HOST, settings.PORT, settings.WORKERS
        limit_concurrency, keepalive = settings.LIMIT_CONCURRENCY, settings.KEEPALIVE_TIMEOUT
        log_config = settings.LOGGING
    except ImproperlyConfigured as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None

    made_directory = ""
    if settings.METRICS_TOKEN:
        # Before any worker starts (and so before any imports prometheus_client).
        directory = settings.PROMETHEUS_MULTIPROC_DIR
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            metrics_directory.directory_empty(directory)
        else:
            directory = made_directory = metrics_directory.fresh_directory()
        os.environ[metrics_directory.VARIABLE] = directory

    exit_cleanly_on_signals()
    options = {
        "host": host,
        "port": port,
        "workers": workers,
        # The client address is the TCP peer unless CLIENT_IP_HEADER names the header of a
        # proxy in TRUSTED_PROXIES (toolkit.client_address): uvicorn must not rewrite it from
        # X-Forwarded-For on its own (the protocol takes that out too, whatever the flags).
        "proxy_headers": False,
        "server_header": False,
        # Bounded request heads (size and arrival time): see server/protocol.py. The protocol
        # also applies the two below; they are passed here so uvicorn's own log and state agree.
        "http": "server.protocol:BoundedHttpToolsProtocol",
        "limit_concurrency": limit_concurrency,
        "timeout_keep_alive": keepalive,  # uvicorn accepts seconds as a float
        "timeout_graceful_shutdown": settings.SHUTDOWN_TIMEOUT,
        "log_config": log_config,
        "access_log": False,
    }
    config = ServeConfig(APPLICATION, **options)  # type: ignore[arg-type]
    try:
        if workers == 1:
            server = uvicorn.Server(config)
            server.run()
            if not server.started:
                raise SystemExit(STARTUP_FAILURE)  # as uvicorn.run says it
        else:
            supervise(config)
    finally:
        if made_directory:
            metrics_directory.directory_remove(made_directory)


if __name__ == "__main__":
    main()
