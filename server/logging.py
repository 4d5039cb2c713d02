"""Where log lines go: the handler every logger of the process uses (uvicorn's included), which
writes off the request's path, and the logging configuration (server.log_format says how a
line looks).

A request never waits for a formatter or a write to standard error: BackgroundHandler appends
each record to a bounded queue (server.batching) and one thread of the process formats what
has gathered and writes it in one write, WRITE_DELAY after the batch's first record: a busy
worker pays one wake-up and one system call for many lines, and an idle one nothing. A full
queue drops the record and counts it (a request never blocks on its log); the queue is drained
at exit, in the supervisor and in every worker.
"""

import logging
import sys
from collections.abc import Iterable
from typing import Any, Protocol

from server.batching import BatchingQueue
from server.log_format import AccessEntry, OneLineWarning, formatter_for
from toolkit.request_context import RequestIdFilter

# Records waiting for the writer thread: some seconds of a busy worker's lines; beyond, dropped.
LOG_QUEUE_SIZE = 10_000
# Seconds the writer lets a batch gather after its first record (how late a line may appear).
WRITE_DELAY = 0.05


class TextStream(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


class BackgroundHandler(logging.Handler):
    """The handler of every logger: the caller's thread runs the handler's filters (the request
    id lives in the caller's context) and appends the record to the queue; the writer thread
    formats it and writes it to `stream` (standard error).

    `entry_put` takes an access line as its fields (server.access): no record is made on the
    request's path. `dropped` counts what a full queue refused; the writer says how many were
    lost in a WARNING line before its next one. The thread starts with the first record in each
    process (a worker spawned by uvicorn configures its own) and is drained and stopped by
    `close` (logging's own shutdown at exit, or a new configuration) or at exit.
    """

    def __init__(
        self,
        *,
        log_format: str,
        one_line_warning: bool = False,
        queue_size: int = LOG_QUEUE_SIZE,
        stream: TextStream | None = None,
    ) -> None:
        super().__init__()
        self.line_formatter = formatter_for(log_format)
        self.formatter = self.line_formatter
        self.stream = stream
        if one_line_warning:
            self.addFilter(OneLineWarning())
        self.batches: BatchingQueue[logging.LogRecord | AccessEntry] = BatchingQueue(
            "log-writer", self.write_batch, delay=WRITE_DELAY, size=queue_size
        )

    @property
    def dropped(self) -> int:
        return self.batches.dropped

    @property
    def takes_entries_as_they_are(self) -> bool:
        """Whether an access entry may skip the record: no filter but the request id's (which
        the entry carries already) would have seen it, and no other formatter was set since."""
        if self.formatter is not self.line_formatter:
            return False
        for each in self.filters:  # noqa: SIM110  # asked per request: no generator
            if type(each) is not RequestIdFilter:
                return False
        return True

    def handle(self, record: logging.LogRecord) -> bool:
        # Handler.handle takes the handler's lock around emit: appending needs none.
        result = self.filter(record)
        if isinstance(result, logging.LogRecord):
            record = result
        if result:
            self.emit(record)
        return bool(result)

    def emit(self, record: logging.LogRecord) -> None:
        self.batches.put(record)

    def entry_put(self, entry: AccessEntry) -> None:
        self.batches.put(entry)

    def write_batch(self, batch: list[logging.LogRecord | AccessEntry]) -> None:
        lines: list[str] = []
        lost = self.batches.dropped_unreported()
        if lost:
            lines.append(self.dropped_notice(lost))
        for item in batch:
            line = self.line(item)
            if line is not None:
                lines.append(line)
        if lines:
            stream = self.stream or sys.stderr
            try:
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            except Exception:
                sys.stderr.write("--- Logging error: the log stream refused a batch of lines\n")

    def line(self, item: logging.LogRecord | AccessEntry) -> str | None:
        try:
            if isinstance(item, AccessEntry):
                return self.line_formatter.format_access(item)
            return self.format(item)
        except Exception:
            self.handleError(item if isinstance(item, logging.LogRecord) else item.record())
            return None

    def dropped_notice(self, lost: int) -> str:
        notice = logging.LogRecord(
            "server.logging",
            logging.WARNING,
            __file__,
            0,
            "%d log records dropped: the log queue was full",
            (lost,),
            None,
        )
        notice.request_id = None
        notice.dropped = lost
        return self.format(notice)

    def stop(self) -> None:
        """Write what is queued, then stop the thread."""
        self.batches.stop()

    def close(self) -> None:
        self.stop()
        super().close()


def logging_config(
    *, level: str, log_format: str, service_loggers: Iterable[str]
) -> dict[str, Any]:
    """Django's LOGGING, which server.serve also hands to uvicorn as its log_config: one format
    for every logger, every record tagged with the request it was written for, the service's own
    loggers (`service_loggers`, its packages) at `level`, and uvicorn's access log off."""

    def console(logger_level: str) -> dict[str, Any]:
        return {"handlers": ["console"], "level": logger_level, "propagate": False}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "toolkit.request_context.RequestIdFilter"}},
        "handlers": {
            "console": {
                "()": "server.logging.BackgroundHandler",
                "log_format": log_format,
                "filters": ["request_id"],
            },
            # A refused Host or another suspicious request costs the client one request: one line.
            "console_one_line": {
                "()": "server.logging.BackgroundHandler",
                "log_format": log_format,
                "one_line_warning": True,
                "filters": ["request_id"],
            },
        },
        # Any other library's warnings, in the same format.
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            **{name: console(level) for name in service_loggers},
            # One line per answered request (server.access), handed to the handler as it is.
            "project.access": console(level),
            # Django's own loggers: not its default handlers (plain text, and only with DEBUG).
            "django": console("WARNING"),
            # Task ids, paths and states (never arguments): enqueued, started, finished or failed.
            "django.tasks": console(level),
            "django_tasks_db": console(level),
            # Request errors are logged by the API's exception handlers, without bodies or headers.
            "django.request": console("ERROR"),
            "django.security": {
                "handlers": ["console_one_line"],
                "level": "WARNING",
                "propagate": False,
            },
            # The pool logs every failed reconnection attempt; readiness and 503s already say it.
            "psycopg.pool": console("ERROR"),
            # uvicorn's start-up, shutdown and error lines.
            "uvicorn": console(level),
            "uvicorn.error": {"level": level},
            # uvicorn's access log stays off, even under plain uvicorn without --no-access-log:
            # the service writes its own (server.access, with the route template and request id,
            # never the query string uvicorn's includes). uvicorn logs access only when this
            # logger has handlers.
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
