"""Log formatting for `LOG_FORMAT=json`: one JSON object a line."""

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


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
