"""Readiness fails from the moment SIGTERM (or SIGINT) arrives, not when shutdown ends.

On SIGTERM uvicorn stops accepting connections on its next tick (within 0.1 s), lets the
requests in flight finish (at most `--timeout-graceful-shutdown`, SHUTDOWN_TIMEOUT), and only
then runs the lifespan shutdown. Setting `toolkit.lifecycle.draining` there would leave readiness
saying 200 for the whole drain, to any probe still reaching the process. So at start-up the
handler uvicorn installed for each signal is wrapped: the flag is set first, then uvicorn's own
handler runs as before. This works the same under `python -m server.serve` and plain
`uvicorn` (both run uvicorn's Server, which installs its handlers before loading the app).
"""

import asyncio
import logging
import signal
import threading
from types import FrameType
from typing import Any

from uvicorn import Server

from toolkit import lifecycle

# The log's name from before the server had a package of its own: operators search for it.
logger = logging.getLogger("project.server")
DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def uvicorn_handler(handler: Any) -> bool:
    """Whether `handler` is a uvicorn Server's own signal handler (its bound `handle_exit`)."""
    return isinstance(getattr(handler, "__self__", None), Server)


def drain_on_signal() -> bool:
    """Wrap uvicorn's handlers of SIGTERM and SIGINT so that readiness fails at once; say
    whether it did (not outside uvicorn, nor off the main thread, where signals cannot be
    handled)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    wrapped = False
    for sig in DRAIN_SIGNALS:
        handler = signal.getsignal(sig)
        if not uvicorn_handler(handler):
            continue

        def drain_then_exit(
            number: int, frame: FrameType | None, uvicorn_exit: Any = handler
        ) -> None:
            if not lifecycle.draining.is_set():
                lifecycle.draining.set()
                # A signal handler may interrupt a log call: the line is written by the loop.
                loop.call_soon_threadsafe(
                    logger.info,
                    "Draining: readiness fails from now on (%s)",
                    signal.strsignal(number),
                )
            uvicorn_exit(number, frame)

        signal.signal(sig, drain_then_exit)
        wrapped = True
    return wrapped
