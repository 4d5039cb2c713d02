"""Log formatting: `LOG_FORMAT=text` (uvicorn's look) or `json` (one JSON object a line), both
with the request id and the structured fields a record carries (`extra=`), and the logging
configuration that gives every logger of the process, uvicorn's included, that format.

Every line is one line, whatever a client sent: the text format writes control characters in a
message, a field or an exception's message as escapes (toolkit.log_text), so a path such as
`/x%0aINFO:     forged` cannot start a line of its own; JSON escapes them by itself, and also
gets the few it leaves (NEL, U+2028, C1 controls) escaped.
"""

import json
import logging
from collections.abc import Iterable
from copy import copy
from datetime import UTC, datetime
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
        "formatters": {
            "text": {"()": "server.logging.TextFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "json": {"()": "server.logging.JsonFormatter"},
        },
        "filters": {
            "one_line_warning": {"()": "server.logging.OneLineWarning"},
            "request_id": {"()": "toolkit.request_context.RequestIdFilter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            },
            # A refused Host or another suspicious request costs the client one request: one line.
            "console_one_line": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id", "one_line_warning"],
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
