"""A breached-password range API for tests, on loopback: `GET /range/<5 hex>` answers
`SUFFIX:COUNT` lines for the passwords it was given, padded with count-0 lines when asked
(`Add-Padding: true`), as api.pwnedpasswords.com does; it can be slow, or answer an error."""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324 - the protocol's


@dataclass
class RangeServer:
    breached: dict[str, int] = field(default_factory=dict)  # password: times seen
    delay: float = 0.0  # seconds before answering
    status: int = 200
    padding: int = 300  # made-up count-0 lines when asked for padding
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def pad(self) -> str:
        """A made-up suffix with a count of 0, as the real API pads its answers."""
        return f"{secrets.token_hex(18)[:35].upper()}:0"

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, str]:
        self.requests.append((path, headers))
        prefix = path.removeprefix("/range/")
        lines = [
            f"{digest[5:]}:{count}"
            for password, count in self.breached.items()
            if (digest := sha1_hex(password)).startswith(prefix)
        ]
        if headers.get("add-padding", "").lower() == "true":
            lines += [self.pad() for _ in range(self.padding)]
        return self.status, "\r\n".join(lines)

    def start(self) -> "RangeServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, body = owner.answer(self.path, headers)
                time.sleep(owner.delay)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
