"""`make cluster` as a newcomer runs it: one command prints a URL that serves the API, and
Ctrl-C leaves nothing running and nothing behind."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.support.load import PASSWORD
from tests.support.pgcluster import free_port
from tests.support.process import port_open

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


def read_until(output: Path, pattern: str, process: subprocess.Popen[bytes], timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, output.read_text())
        if found:
            return found
        assert process.poll() is None, f"make cluster exited:\n{output.read_text()}"
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} within {timeout} s:\n{output.read_text()}")


def test_make_cluster_serves_and_ctrl_c_stops_everything(tmp_path):
    output = tmp_path / "make-cluster.txt"
    port = free_port()
    # The install steps are up to date in any checkout that runs the suite: not redone here.
    command = ["make", "-o", ".venv/.installed-dev", "-o", ".venv/.installed", "cluster"]
    with output.open("wb") as sink:
        make = subprocess.Popen(
            [*command, f"CLUSTER_PORT={port}"],
            cwd=ROOT,
            env={**os.environ, "ENVIRONMENT": "development", "RATE_LIMITS": "on"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own terminal process group, as in a shell
        )
    try:
        url = read_until(output, r"Ready: (http://\S+)", make, timeout=120).group(1)
        assert url == f"http://127.0.0.1:{port}"
        text = output.read_text()
        ports = [int(p) for p in re.findall(r"(?:port |127\.0\.0\.1:)(\d+)", text)]
        directories = re.findall(r"(/tmp/[\w.-]+)", text)
        signup = httpx.post(
            f"{url}/api/auth/signup",
            json={"email": "newcomer@example.com", "password": PASSWORD},
            timeout=30,
        )
        assert signup.status_code == 201, signup.text
        headers = {"Authorization": f"Bearer {signup.json()['access_token']}"}
        assert httpx.get(f"{url}/api/auth/me", headers=headers, timeout=10).status_code == 200
        assert httpx.get(f"{url}/health/ready", timeout=10).status_code == 200
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        make.wait(timeout=90)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    text = output.read_text()
    assert "Stopped; nothing left running." in text, text
    assert "Traceback" not in text, text
    # HAProxy, the instances, PgBouncer, Redis, PostgreSQL: all gone, their files too.
    assert port in ports and len(ports) >= 6, text
    assert [p for p in ports if port_open(p)] == []
    assert directories and not [d for d in directories if Path(d).exists()], directories
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--port {port}"], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout == "", leftovers.stdout
