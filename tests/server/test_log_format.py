"""The two log formats: control characters escaped, one line per record, and an access line
handed over as its fields written exactly as the same line logged as a record."""

import json
import logging
import sys
import time
from datetime import UTC, datetime

import pytest

from server.log_format import AccessEntry, JsonFormatter, TextFormatter, iso_time


def test_text_and_json_lines_escape_control_characters_in_messages_fields_and_exceptions():
    try:
        raise ValueError("bad input\nINFO:     forged by an exception \x1b[2J")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "project.api", logging.ERROR, __file__, 1, "Got %s", ("a\nb\x85c\u2028d",), exc_info
    )
    record.path = "/x\r\nINFO:     forged by a field"
    text = TextFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False).format(record)
    assert text.startswith("ERROR:    Got a\\nb\\x85c\\u2028d path=/x\\r\\nINFO:     forged by a")
    assert "ValueError: bad input\\nINFO:     forged by an exception \\x1b[2J" in text
    assert not [line for line in text.splitlines() if "forged" in line and "\\n" not in line]
    record.exc_text = None
    line = JsonFormatter().format(record)
    assert line.splitlines() == [line]
    assert "\x1b" not in line
    entry = json.loads(line)
    assert entry["message"] == "Got a\nb\x85c\u2028d"
    assert entry["path"] == "/x\r\nINFO:     forged by a field"


ENTRIES = [
    AccessEntry(time.time(), "a" * 32, "GET", "/api/auth/me", 200, 1.23, "127.0.0.1", "7f1c"),
    AccessEntry(1796444507.0, "burst-1", "POST", "unmatched", 500, 0.0, None, None),
    AccessEntry(1796444507.9999996, "x", "OTHER", "/é/\u2028/\x85", 413, 12.5, "::1", None),
    AccessEntry(
        time.time(), "r", "DELETE", "/api/auth/sessions/<session_id>", 204, 3.0, "10.0.0.1", "u"
    ),
]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(
    "formatter",
    [JsonFormatter(), TextFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False)],
    ids=["json", "text"],
)
def test_an_access_entry_is_written_as_the_same_line_logged_as_a_record(formatter, entry):
    logged: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record)

    logger = logging.Logger("project.access")
    logger.addHandler(Keep())
    logger.info("%s %s %s %.2f ms", *entry.args(), extra=entry.fields())
    (record,) = logged
    record.created = entry.created
    assert formatter.format_access(entry) == formatter.format(record)
    if isinstance(formatter, JsonFormatter):
        assert json.loads(formatter.format_access(entry))["route"] == entry.route


@pytest.mark.parametrize(
    "created",
    [
        0.0,
        1.0,
        1796446439.0,
        1796446439.5,
        1796446439.0000005,  # half a microsecond: rounded to even
        1796446439.0000015,
        1796446439.9999995,  # rounds up into the next second
        1796446439.9999999,
        1796446439.123456,
        -1.5,
        253402300799.0,
    ],
)
def test_line_times_are_what_datetime_writes(created):
    assert iso_time(created) == datetime.fromtimestamp(created, UTC).isoformat().replace(
        "+00:00", "Z"
    )
