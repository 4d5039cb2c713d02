"""A request with a refused `Host` costs one WARNING line in the log, never a traceback."""

import time

import httpx
import pytest

from tests.support.markers import LIVE

pytestmark = [*LIVE, pytest.mark.attack]
EVIL_HOST = "evil.example"


def wait_for_line(server, fragment: str, *, wait: float = 3.0) -> None:
    deadline = time.monotonic() + wait
    while fragment not in server.output() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_bad_host_logs_one_warning_line_without_traceback(live_server_factory, log_format):
    server = live_server_factory(LOG_FORMAT=log_format)
    response = httpx.get(f"{server.url}/api/auth/me", headers={"Host": EVIL_HOST})
    assert response.status_code == 400
    assert response.json()["detail"]
    wait_for_line(server, EVIL_HOST)
    time.sleep(0.3)  # anything logged after the first line would be the traceback
    output = server.output()
    lines = [line for line in output.splitlines() if EVIL_HOST in line]
    assert len(lines) == 1, output
    assert "WARNING" in lines[0]
    assert "Traceback" not in output
    assert "ERROR" not in output
