"""`make run` bounds what a client facing uvicorn directly can hold: header size (however the head
arrives: in one write, in many, or pipelined), header arrival time (slowloris), idle kept-alive
connections, and open connections per worker."""

import json
import re
import socket
import time

import httpx
import pytest

from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.attack, pytest.mark.slow]

HEADER_TIMEOUT = 2.0
BOUNDS = {"HEADER_TIMEOUT": str(HEADER_TIMEOUT), "MAX_HEADER_BYTES": "65536"}


@pytest.fixture
def server(serve_factory):
    return serve_factory(**BOUNDS)


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def send_then_read_status(server, request: bytes) -> tuple[int | None, bool]:
    """Send `request`; return the status the server answered (None if it only closed) and
    whether it stopped reading before the whole request was sent."""
    with connect(server) as client:
        refused_early = False
        try:
            client.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            refused_early = True
        try:
            answer = client.recv(4096)
        except ConnectionResetError:
            answer = b""
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, refused_early


def closed_within(client: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Wait up to `seconds` for the server to close; return whether it did and what it sent."""
    client.settimeout(seconds)
    received = b""
    try:
        while chunk := client.recv(4096):
            received += chunk
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        pass
    return True, received


def test_an_8_mib_header_is_refused(server):
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (8 << 20) + b"\r\n\r\n"
    status, refused_early = send_then_read_status(server, request)
    assert status in (431, 400) or (status is None and refused_early)
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_100k_headers_are_refused(server):
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(100_000))
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n"
    status, refused_early = send_then_read_status(server, request)
    assert status in (431, 400) or (status is None and refused_early)


def test_a_large_header_under_the_bound_is_served(server):
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 32_000 + b"\r\n\r\n"
    status, _ = send_then_read_status(server, request)
    assert status == 200


def test_a_body_larger_than_the_header_bound_is_not_mistaken_for_a_header(server):
    response = httpx.post(
        f"{server.url}/api/auth/signin",
        json={"email": "nobody@example.com", "password": "p" * 1000, "pad": "x" * 300_000},
    )
    assert response.status_code == 401


def test_a_stalled_request_head_is_dropped_within_the_bound(server):
    with connect(server) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        started = time.monotonic()
        closed, received = closed_within(client, 3 * HEADER_TIMEOUT)
    assert closed
    assert time.monotonic() - started < 3 * HEADER_TIMEOUT
    assert received.startswith(b"HTTP/1.1 408 ")


def test_a_trickling_request_head_is_dropped_within_the_bound(server):
    started = time.monotonic()
    with connect(server) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        try:
            while time.monotonic() - started < 3 * HEADER_TIMEOUT:
                client.sendall(b"X-a: b\r\n")  # a header now and then, never the blank line
                time.sleep(0.2)
            dropped = False
        except (BrokenPipeError, ConnectionResetError):
            dropped = True
        if not dropped:
            dropped, _ = closed_within(client, 0.5)
    assert dropped
    assert time.monotonic() - started < 3 * HEADER_TIMEOUT + 1


def test_a_connection_that_sends_nothing_is_closed_within_the_bound(server):
    with connect(server) as client:
        closed, received = closed_within(client, 3 * HEADER_TIMEOUT)
    assert closed
    assert received == b""


def test_a_stalled_second_request_on_a_kept_alive_connection_is_dropped(server):
    with connect(server) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first = b""
        while not first.endswith(b"}"):  # the whole first answer: its head and its body
            chunk = client.recv(4096)
            assert chunk, f"closed after {first!r}"
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 ")
        client.sendall(b"GET /health HTTP/1.1\r\nHost: local")  # then nothing
        closed, received = closed_within(client, 3 * HEADER_TIMEOUT)
    assert closed
    assert received.startswith(b"HTTP/1.1 408 ")


def test_open_connections_beyond_the_limit_get_503_until_the_stalled_ones_are_dropped(
    serve_factory,
):
    server = serve_factory(**BOUNDS, LIMIT_CONCURRENCY="5")
    stalled = [connect(server) for _ in range(5)]
    try:
        for client in stalled:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        time.sleep(0.3)
        assert httpx.get(f"{server.url}/health").status_code == 503
        time.sleep(HEADER_TIMEOUT + 1)  # the stalled heads time out
        assert httpx.get(f"{server.url}/health").status_code == 200
    finally:
        for client in stalled:
            client.close()


def test_the_documented_uvicorn_command_has_the_same_bounds(live_server_factory):
    server = live_server_factory("--http", "server.protocol:BoundedHttpToolsProtocol", **BOUNDS)
    with connect(server) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        closed, received = closed_within(client, 3 * HEADER_TIMEOUT)
    assert closed
    assert received.startswith(b"HTTP/1.1 408 ")


def read_until_closed(client: socket.socket) -> bytes:
    client.settimeout(10)
    received = b""
    try:
        while chunk := client.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def statuses_of(answers: bytes) -> list[int]:
    return [int(line.split(b" ", 2)[1]) for line in re.findall(rb"HTTP/1\.1 \d{3} ", answers)]


def head_with_header_of(size: int, request_id: str) -> bytes:
    return (
        b"GET /health HTTP/1.1\r\nHost: localhost\r\n"
        b"X-Request-ID: " + request_id.encode() + b"\r\n"
        b"User-Agent: " + b"a" * size + b"\r\n\r\n"
    )


ONE_WRITE_HEADS = {
    "one header": head_with_header_of(70_000, "too-large-1"),
    "many headers": (
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: too-large-1\r\n"
        + b"".join(b"X-Header-%04d: %s\r\n" % (n, b"v" * 20) for n in range(2000))
        + b"\r\n"
    ),
    "target": (
        b"GET /health?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n"
        b"X-Request-ID: too-large-1\r\n\r\n"
    ),
}


@pytest.mark.parametrize("head", ONE_WRITE_HEADS.values(), ids=ONE_WRITE_HEADS.keys())
def test_a_70_kb_head_sent_in_one_write_is_refused_before_the_application(serve_factory, head):
    server = serve_factory(**BOUNDS, LOG_FORMAT="json")
    with connect(server) as client:
        client.sendall(head)
        answer = read_until_closed(client)
    assert statuses_of(answer) == [431]
    assert b'{"detail":"Request line and headers are too large"}' in answer
    httpx.get(f"{server.url}/health", headers={"X-Request-ID": "after-1"})
    wait_for_output(server, "after-1")
    assert "too-large-1" not in server.output()  # no access line: the application never saw it


def test_a_70_kb_header_sent_in_many_writes_is_refused(server):
    request = head_with_header_of(70_000, "too-large-2")
    with connect(server) as client:
        try:
            for start in range(0, len(request), 1000):
                client.sendall(request[start : start + 1000])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while it was still being sent
        answer = read_until_closed(client)
    assert statuses_of(answer) == [431]


def test_a_70_kb_header_pipelined_after_a_request_is_refused_after_its_answer(server):
    with connect(server) as client:
        client.sendall(
            b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
            + head_with_header_of(70_000, "too-large-3")
        )
        answers = read_until_closed(client)
    assert statuses_of(answers) == [200, 431]


def test_a_head_just_under_the_bound_in_one_write_is_served(server):
    status, _ = send_then_read_status(server, head_with_header_of(65_300, "just-under"))
    assert status == 200


def test_a_60_kb_header_with_a_1_mb_body_is_not_taken_for_a_large_head(server):
    body = json.dumps(
        {"email": "nobody@example.com", "password": "p" * 100, "pad": "x" * 1_000_000}
    ).encode()
    assert len(body) < 1_048_576  # within MAX_BODY_BYTES
    request = (
        b"POST /api/auth/signin HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"User-Agent: " + b"a" * 60_000 + b"\r\n\r\n" + body
    )
    status, _ = send_then_read_status(server, request)
    assert status == 401


def wait_for_output(server, fragment: str, wait: float = 5.0) -> None:
    deadline = time.monotonic() + wait
    while fragment not in server.output():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
