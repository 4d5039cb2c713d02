"""Log formatting: `LOG_FORMAT=text` (uvicorn's look) or `json` (one JSON object a line), both
with the request id and the structured fields a record carries (`extra=`), and the logging
configuration that gives every logger of the process, uvicorn's included, that format.

Records are written off the request's path: the handler every logger uses (BackgroundHandler)
puts each record on a bounded queue and a thread of the process formats and writes it, so a
request never waits for a formatter or a write to standard error; a full queue drops the record
and counts it (a request never blocks on its log), and the queue is drained at exit.

Every line is one line, whatever a client sent: the text format writes control characters in a
message, a field or an exception's message as escapes (toolkit.log_text), so a path such as
`/x%0aINFO:     forged` cannot start a line of its own; JSON escapes them by itself, and also
gets the few it leaves (NEL, U+2028, C1 controls) escaped.
"""

import atexit
import json
import logging
import os
import queue
import threading
from collections.abc import Iterable
from copy import copy
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from uvicorn.logging import DefaultFormatter

from toolkit.log_text import ExcInfo, exception_text, json_line_escape, log_escape

# Every attribute a plain LogRecord has, plus what formatters and uvicorn add, and Django's
# `request` (its text is the raw path with the query string, which may carry a token): anything
# else on a record came from `extra=` and is a field of the line.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message", "request_id", "taskName", "request"}
)
# The access log line says these in its message already (text format only).
SAID_IN_MESSAGE = frozenset({"method", "route", "status", "duration_ms"})


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in RECORD_ATTRIBUTES}


class JsonFormatter(logging.Formatter):
    """`{"time","level","logger","message","request_id"?, ...fields, "exception"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(record_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = json.dumps(entry, separators=(",", ":"), default=str, ensure_ascii=False)
        return json_line_escape(line)


class TextFormatter(DefaultFormatter):
    """uvicorn's `INFO:     message`, then ` key=value` for each field and the request id; the
    message, the values and exceptions' messages escaped (toolkit.log_text.log_escape)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = record.message
        # A trailing line break (uvicorn's "Exception in ASGI application\n") starts no line.
        escaped = log_escape(message.rstrip("\r\n"))
        if escaped is not message:
            record = copy(record)
            record.message = escaped
            # uvicorn's coloured variant would be made again from the raw arguments.
            record.__dict__.pop("color_message", None)
        line = super().formatMessage(record)
        fields = {
            key: value
            for key, value in record_fields(record).items()
            if key not in SAID_IN_MESSAGE and value is not None
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            fields["request_id"] = request_id
        if fields:
            line += " " + " ".join(
                f"{key}={log_escape(str(value))}" for key, value in fields.items()
            )
        return line

    def formatException(self, ei: Any) -> str:
        exc_info: ExcInfo = ei
        return exception_text(exc_info)


class OneLineWarning(logging.Filter):
    """Turn a record into one WARNING line: no traceback, whatever level it was logged at.

    For `django.security.*`: Django logs every refused `Host` (and other suspicious requests) as
    an ERROR with the exception's traceback, some fifteen lines for one cheap request a client
    controls. The message alone says what was refused.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


# Records waiting for the writer thread: some seconds of a busy worker's lines; beyond, dropped.
LOG_QUEUE_SIZE = 10_000


# Which process this is, as the handlers need to know (a forked child has no writer thread):
# bumped in a child after fork, so no getpid system call is made per record.
process_generation = 0


def process_generation_bump() -> None:
    global process_generation
    process_generation += 1


os.register_at_fork(after_in_child=process_generation_bump)


class BackgroundHandler(QueueHandler):
    """The handler of every logger: the caller's thread only puts the record on a bounded queue
    (after the handler's filters, which run there: the request id lives in the caller's
    context); a QueueListener thread formats it and writes it to standard error.

    A full queue drops the record and counts it (`dropped`); the writer says how many were lost
    in a WARNING line before its next one. The listener starts with the first record in each
    process (a worker spawned by uvicorn configures its own) and is drained and stopped by
    `close` (logging's own shutdown at exit, or a new configuration) or at exit.
    """

    def __init__(
        self, *, log_format: str, one_line_warning: bool = False, queue_size: int = LOG_QUEUE_SIZE
    ) -> None:
        super().__init__(queue.Queue(queue_size))
        self.writer = DroppedReportingWriter(self)
        self.writer.setFormatter(formatter_for(log_format))
        if one_line_warning:
            self.writer.addFilter(OneLineWarning())
        self.dropped = 0
        self.reported = 0
        self.running_in: int | None = None  # the process_generation whose thread drains it
        self.starting = threading.Lock()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The same process formats it: no copy, no message merged into the record here.
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        if self.running_in != process_generation:
            self.start()
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def start(self) -> None:
        with self.starting:
            if self.running_in == process_generation:
                return
            self.listener = DrainingListener(self.queue, self.writer)
            self.listener.start()
            self.running_in = process_generation
            atexit.register(self.stop)

    def stop(self) -> None:
        """Write what is queued, then stop the thread."""
        with self.starting:
            if self.running_in == process_generation and self.listener is not None:
                self.listener.stop()
            self.running_in = None

    def close(self) -> None:
        self.stop()
        super().close()


class DrainingListener(QueueListener):
    def enqueue_sentinel(self) -> None:
        # Behind every record still queued, even when the queue is full (the writer drains it).
        queued: queue.Queue[Any] = self.queue  # type: ignore[assignment]
        queued.put(getattr(self, "_sentinel", None))


class DroppedReportingWriter(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error, written by the listener thread; first says how many records the full
    queue dropped since it last said so."""

    def __init__(self, owner: BackgroundHandler) -> None:
        super().__init__()
        self.owner = owner

    def handle(self, record: logging.LogRecord) -> bool:
        dropped = self.owner.dropped
        if dropped > self.owner.reported:
            lost = dropped - self.owner.reported
            self.owner.reported = dropped
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
            super().handle(notice)
        return super().handle(record)


def formatter_for(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return TextFormatter(fmt="%(levelprefix)s %(message)s")


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
