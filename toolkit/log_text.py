"""Text fit for a log line: characters that could end the line, or speak to the terminal showing
it, written as escapes, so that a value a client chose (a path, a header) cannot forge a line."""

import re
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What JSON leaves as is (it escapes U+0000-U+001F itself) and some readers still take for a line
# break (NEL, U+2028, U+2029) or a terminal command (C1 controls such as CSI, U+009B); DEL too.
JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def character_escape(character: str) -> str:
    code = ord(character)
    named = NAMED_ESCAPES.get(character)
    if named is not None:
        return named
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def log_escape(text: str) -> str:
    """`text` with every character Python does not print (control characters such as a line
    break or ESC, Unicode line separators, invisible format characters such as bidirectional
    overrides, spaces other than the plain one) as a Python escape: `\\n`, `\\x1b`, `\\u2028`.

    Text with nothing to escape, nearly every line, is returned as is (the same object, so a
    caller can tell with `is`), after one pass in C. Backslashes are left alone: an escape in
    the output may also be a backslash the input held, but never a line of its own.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else character_escape(c) for c in text)


def json_line_escape(line: str) -> str:
    """A JSON document's text with the characters JSON leaves unescaped but some readers take
    for a line break or a terminal command written as `\\uXXXX` (still the same JSON value:
    they can only occur inside its strings)."""
    if line.isascii() and "\x7f" not in line:
        return line
    return JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", line)


def exception_text(exc_info: ExcInfo) -> str:
    """The traceback as logging writes it, with each exception's own message escaped: a
    message quoting a client's input cannot start a line of its own. The frames' lines are
    source code, not input, and notes (`add_note`, split into lines by the traceback module
    itself) are the code's own words: both stay as they are."""
    exception = traceback.TracebackException(*exc_info)
    for each in exception_chain(exception):
        # Only this node's `format_exception_only` changes (an instance attribute shadows the
        # method); `format` calls it for every exception of the chain.
        each.format_exception_only = escaped_lines(each.format_exception_only)  # type: ignore[method-assign,assignment]
    return "".join(exception.format()).removesuffix("\n")


def exception_chain(
    exception: traceback.TracebackException,
) -> Iterator[traceback.TracebackException]:
    seen: set[int] = set()
    pending = [exception]
    while pending:
        each = pending.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        pending += [e for e in (each.__cause__, each.__context__) if e is not None]
        pending += each.exceptions or []


def escaped_lines(format_lines: Callable[..., Iterator[str]]) -> Callable[..., Iterator[str]]:
    def format_escaped(*args: Any, **kwargs: Any) -> Iterator[str]:
        for line in format_lines(*args, **kwargs):
            body = line.removesuffix("\n")
            yield log_escape(body) + line[len(body) :]

    return format_escaped
