"""uvicorn's httptools protocol with bounds on each request head: its size and its arrival time.

uvicorn (0.54, httptools) takes a request line and headers of any size, and waits for them
forever: an 8 MiB header, 100k headers and slowloris connections (a byte now and then, never the
blank line) are all accepted and kept. Select this class with `--http
server.protocol:BoundedHttpToolsProtocol` (`make run` does); it reads from the Django settings:

- MAX_HEADER_BYTES: the request line and headers of one request may take this many bytes,
  however they arrive: in one read, in many, or pipelined behind an earlier request on the same
  connection. Beyond it: 431 with a JSON body and the connection closed, before the request
  reaches the application (after the answers to earlier pipelined requests, which go first). The
  head is counted as the parser reports it (target, then each header), and also by the bytes of
  each read that leaves it incomplete, so a huge header arriving in pieces is refused after about
  this bound (plus one read) is held. A body never counts.
- HEADER_TIMEOUT: seconds from the connection's start, or from the end of the previous response
  on a kept-alive connection, until the head of the next request is complete. Absolute, not per
  byte: trickling bytes does not extend it. Beyond it: 408 (when part of a head arrived) and
  the connection closed. The body is not covered: uvicorn hands it to the application as it
  arrives, and a proxy in front bounds it (see the README).
- uvicorn's proxy headers handling (on by default) is taken out: the client address is decided
  by the application, from TRUSTED_PROXIES and CLIENT_IP_HEADER.
- KEEPALIVE_TIMEOUT and LIMIT_CONCURRENCY: uvicorn's own `--timeout-keep-alive` and
  `--limit-concurrency` (a 503 once this many connections or requests are open in the process),
  set from the settings so that plain `uvicorn` with this class behaves like `make run`.
"""

import asyncio
from typing import Any

import httptools
from django.conf import settings
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from toolkit.http import compact_json


def canned_response(status: bytes, detail: str) -> bytes:
    body = compact_json({"detail": detail}).encode()
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


HEAD_TOO_LARGE = canned_response(
    b"431 Request Header Fields Too Large", "Request line and headers are too large"
)
HEAD_TIMED_OUT = canned_response(b"408 Request Timeout", "Request headers took too long to arrive")


# What a head holds besides the target and the header names and values the parser reports: the
# request line's method (most are 3-6 letters), two spaces, "HTTP/1.1" and CRLF; ": " and CRLF
# per header line; the blank line that ends the head.
REQUEST_LINE_OVERHEAD = len(b"DELETE  HTTP/1.1\r\n")
HEADER_LINE_OVERHEAD = len(b": \r\n")
END_OF_HEAD = len(b"\r\n")


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop the parser: the head went over MAX_HEADER_BYTES."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The client address is the TCP peer, or what CLIENT_IP_HEADER says when the peer is in
        # TRUSTED_PROXIES (toolkit.client_address): uvicorn must not replace the peer with
        # X-Forwarded-For on its own, as it does by default (proxy_headers, whose trusted hosts
        # come from --forwarded-allow-ips or FORWARDED_ALLOW_IPS).
        while isinstance(self.app, ProxyHeadersMiddleware):
            self.app = self.app.app
        self.max_head_bytes: int = settings.MAX_HEADER_BYTES
        self.head_timeout: float = settings.HEADER_TIMEOUT
        self.timeout_keep_alive = settings.KEEPALIVE_TIMEOUT  # type: ignore[assignment]  # seconds
        self.limit_concurrency = settings.LIMIT_CONCURRENCY
        # Between the end of a request (or the connection's start) and the end of the next head.
        self.reading_head = False
        # Whether any of the next request has arrived (its first byte starts the parser's message).
        self.head_started = False
        # The head's bytes as the parser reported them: its target, and each header once whole.
        self.head_bytes = 0
        # Bytes of reads that began and ended inside the head: what the parser holds of a header
        # it has not reported yet (a huge value arriving in pieces) is among them.
        self.head_received = 0
        # The parser finished a request and started on the next one within the current read.
        self.head_restarted = False
        # Refused: nothing more is read. The answer waits in `refusal` while answers to the
        # requests before it are still being written (HTTP/1.1 answers in order).
        self.refused = False
        self.refusal: bytes | None = None
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_begin()
        self.head_timer_start()

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_timer_stop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's own (0.54), with the head bound: the parser callbacks count the head as it
        reports it, and raise HeadTooLarge, which stops the parser, before the request is handed
        to the application; a head still incomplete after a read also counts the read's bytes,
        since the parser keeps a header it has not reported yet."""
        if self.refused:
            return
        self._unset_keepalive_if_required()
        head_was_open = self.reading_head
        self.head_restarted = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, HeadTooLarge):
                self.refuse(HEAD_TOO_LARGE)
            else:
                self.invalid_request()
            return
        except httptools.HttpParserError:
            self.invalid_request()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # A read that began inside a head which is still open holds nothing but head bytes. (One
        # where the next head began after a previous request ended is not counted: at most one
        # read more than the bound is held before the later reads add up.)
        if self.reading_head and head_was_open and not self.head_restarted:
            self.head_received += len(data)
            if self.head_received > self.max_head_bytes and not self.transport.is_closing():
                self.refuse(HEAD_TOO_LARGE)

    def invalid_request(self) -> None:
        """uvicorn's answer to bytes its parser refuses."""
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_started = True
        self.head_bytes = REQUEST_LINE_OVERHEAD + END_OF_HEAD

    def on_url(self, url: bytes) -> None:
        self.head_bytes += len(url)
        if self.head_bytes > self.max_head_bytes:
            raise HeadTooLarge
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value) + HEADER_LINE_OVERHEAD
        if self.head_bytes > self.max_head_bytes:
            raise HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        # Every header has been through on_header (httptools reports the last one just before
        # this), so the head is within the bound: the request may go to the application.
        self.reading_head = False
        self.head_timer_stop()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # Whatever arrives from now on is the next request's head, even while this request's
        # response is still being sent (or never read): it is counted against the size bound.
        self.head_begin()
        self.head_restarted = True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.refusal is not None:
            if not self.pipeline and self.cycle.response_complete:
                self.transport.write(self.refusal)
                self.transport.close()
            return
        if not self.pipeline and self.reading_head:
            self.head_timer_start()  # the next request on this kept-alive connection

    def head_begin(self) -> None:
        self.reading_head = True
        self.head_started = False
        self.head_bytes = 0
        self.head_received = 0

    def head_timer_start(self) -> None:
        self.head_timer_stop()
        self.head_timer = self.loop.call_later(self.head_timeout, self.head_timed_out)

    def head_timer_stop(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.head_started or self.head_received:
            self.refuse(HEAD_TIMED_OUT)
        else:
            self.transport.close()  # an idle connection: nothing to answer

    def refuse(self, response: bytes) -> None:
        """Answer `response` and close the connection, reading nothing more: at once, or, when
        answers to earlier (pipelined) requests are still being written, right after them."""
        self.refused = True
        self.reading_head = False
        self.head_timer_stop()
        if self.cycle is not None and not self.cycle.response_complete:
            self.refusal = response
            self.flow.pause_reading()
            return
        self.transport.write(response)
        self.transport.close()
