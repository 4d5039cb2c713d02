"""The two log formats: `LOG_FORMAT=text` (uvicorn's look) or `json` (one JSON object a line),
both with the request id and the structured fields a record carries (`extra=`).

Every line is one line, whatever a client sent: the text format writes control characters in a
message, a field or an exception's message as escapes (toolkit.log_text), so a path such as
`/x%0aINFO:     forged` cannot start a line of its own; JSON escapes them by itself, and also
gets the few it leaves (NEL, U+2028, C1 controls) escaped.

An access line can also reach a formatter as an `AccessEntry` (server.access hands those to the
log writer instead of a record: building a LogRecord per request costs more than the rest of
its line); `format_access` writes exactly what `format` writes for the same line logged
through `project.access`.
"""

import json
import logging
import math
from copy import copy
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

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

ACCESS_LOGGER = "project.access"
DURATION_IN_MESSAGE = "%.2f"
ACCESS_MESSAGE = f"%s %s %s {DURATION_IN_MESSAGE} ms"


class AccessEntry(NamedTuple):
    """One answered request's access line, as its fields: what the request's thread hands over."""

    created: float  # time.time() when the answer ended
    request_id: str
    method: str
    route: str
    status: int
    duration_ms: float
    client_ip: str | None
    user_id: str | None

    def fields(self) -> dict[str, Any]:
        """The line's structured fields (`extra=` when it is logged as a record)."""
        return {
            "request_id": self.request_id,
            "method": self.method,
            "route": self.route,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "client_ip": self.client_ip,
            "user_id": self.user_id,
        }

    def args(self) -> tuple[str, str, int, float]:
        return (self.method, self.route, self.status, self.duration_ms)

    def record(self) -> logging.LogRecord:
        """The record `project.access` would make of it."""
        record = logging.LogRecord(
            ACCESS_LOGGER, logging.INFO, __file__, 0, ACCESS_MESSAGE, self.args(), None
        )
        # Made when the answer ended, not when the line is recorded.
        record.relativeCreated += (self.created - record.created) * 1000
        record.created = self.created
        record.msecs = float(int(self.created * 1000) % 1000)
        record.__dict__.update(self.fields())
        return record


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in RECORD_ATTRIBUTES}


def iso_time(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat()` with `Z` for the offset (microseconds
    rounded half to even, none shown when there are none), the date and time of day made once
    per second instead of once per line."""
    fraction, whole = math.modf(created)
    microseconds = round(fraction * 1_000_000)
    if microseconds >= 1_000_000:
        microseconds -= 1_000_000
        whole += 1
    elif microseconds < 0:
        microseconds += 1_000_000
        whole -= 1
    if microseconds:
        return f"{iso_second(int(whole))}.{microseconds:06d}Z"
    return f"{iso_second(int(whole))}Z"


@lru_cache(maxsize=4)
def iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


class JsonFormatter(logging.Formatter):
    """`{"time","level","logger","message","request_id"?, ...fields, "exception"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": iso_time(record.created),
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

    def format_access(self, entry: AccessEntry) -> str:
        # The same document `format` makes of entry.record(), key by key, without the dict; the
        # parts fixed by the method, route and status are made once per combination.
        string = json_string
        head, middle = access_parts(entry.method, entry.route, entry.status)
        line = "".join(
            (
                '{"time":"',
                iso_time(entry.created),
                head,
                DURATION_IN_MESSAGE % entry.duration_ms,
                AFTER_DURATION_IN_MESSAGE,
                string(entry.request_id),
                middle,
                repr(entry.duration_ms),
                ',"client_ip":',
                "null" if entry.client_ip is None else string(entry.client_ip),
                ',"user_id":',
                "null" if entry.user_id is None else string(entry.user_id),
                "}",
            )
        )
        return json_line_escape(line)


# What json.dumps(..., ensure_ascii=False) writes for a string.
json_string = json.encoder.encode_basestring

# ACCESS_MESSAGE around its duration, for format_access: the start is made once per method,
# route and status (access_parts), the end closes the JSON string and opens the request id.
BEFORE_DURATION_IN_MESSAGE, MESSAGE_END = ACCESS_MESSAGE.split(DURATION_IN_MESSAGE)
AFTER_DURATION_IN_MESSAGE = json_string(MESSAGE_END)[1:] + ',"request_id":'


@lru_cache(maxsize=1024)
def access_parts(method: str, route: str, status: int) -> tuple[str, str]:
    """An access line's parts fixed by its method, route and status: from after the time to
    the message's duration, and from after the request id to the duration's value."""
    # The message's start, ACCESS_MESSAGE up to its duration, as a JSON string left open.
    message = json_string(BEFORE_DURATION_IN_MESSAGE % (method, route, status))[:-1]
    head = f'","level":"INFO","logger":"{ACCESS_LOGGER}","message":{message}'
    middle = (
        f',"method":{json_string(method)},"route":{json_string(route)},'
        f'"status":{status},"duration_ms":'
    )
    return head, middle


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

    def format_access(self, entry: AccessEntry) -> str:
        return self.format(entry.record())


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


def formatter_for(log_format: str) -> JsonFormatter | TextFormatter:
    if log_format == "json":
        return JsonFormatter()
    return TextFormatter(fmt="%(levelprefix)s %(message)s")
