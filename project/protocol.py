"""uvicorn's httptools protocol with bounds on each request head: its size and its arrival time.

uvicorn (0.54, httptools) takes a request line and headers of any size, and waits for them
forever: an 8 MiB header, 100k headers and slowloris connections (a byte now and then, never the
blank line) are all accepted and kept. Select this class with `--http
project.protocol:BoundedHttpToolsProtocol` (`make run` does); it reads from the Django settings:

- MAX_HEADER_BYTES: the request line and headers of one request, as received, may take this
  many bytes. Beyond it: 431 with a JSON body and the connection closed. Counted before the
  parser buffers a huge header, so memory per connection stays near this bound.
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
        self.reading_head = False
        self.head_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_begin()
        self.head_timer_start()

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_timer_stop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.reading_head:
            self.head_bytes += len(data)
        super().data_received(data)
        # Checked after parsing: a chunk that completes the head may carry the body behind it.
        if (
            self.reading_head
            and self.head_bytes > self.max_head_bytes
            and not self.transport.is_closing()
        ):
            self.refuse(HEAD_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.head_timer_stop()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # Whatever arrives from now on is the next request's head, even while this request's
        # response is still being sent (or never read): it is counted against the size bound.
        self.head_begin()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline and self.reading_head:
            self.head_timer_start()  # the next request on this kept-alive connection

    def head_begin(self) -> None:
        self.reading_head = True
        self.head_bytes = 0

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
        if self.head_bytes:
            self.refuse(HEAD_TIMED_OUT)
        else:
            self.transport.close()  # an idle connection: nothing to answer

    def refuse(self, response: bytes) -> None:
        self.reading_head = False
        self.head_timer_stop()
        self.transport.write(response)
        self.transport.close()
