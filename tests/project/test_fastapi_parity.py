"""422 answers side by side with the old backend (the FastAPI yardstick in ../shared/peer): the
same fields listed in one answer, in FastAPI's shape, for a corpus of bad sign-up bodies."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, subprocess_database_url
from tests.postgres_plugin import running_in_ci
from tests.support.markers import POSTGRESQL
from tests.support.pgcluster import free_port

pytestmark = POSTGRESQL
PEER = ROOT.parent / "shared" / "peer" / "run"
SIGNUP = "/api/auth/signup"
# Bodies both services refuse; password rules differ on purpose (ours are Django's validators,
# so the `type` of a password error differs), but every invalid field must be listed.
BAD_BODIES: list[object] = [
    {},
    {"email": "not-an-email", "password": "short"},
    {"email": "not-an-email"},
    {"password": "short"},
    {"email": "a@example.com", "password": "short"},
    {"email": "not-an-email", "password": "long-enough-passphrase"},
    {"email": 42, "password": None},
    {"email": ["a@example.com"], "password": {"x": 1}},
    {"email": "a@example.com", "password": "x" * 200},
    {"email": "@example.com", "password": "p" * 7},
]


@pytest.fixture
def fastapi_peer(tmp_path: Path):
    if not PEER.exists():
        if running_in_ci():
            pytest.fail(f"CI=true: the FastAPI yardstick is missing at {PEER}")
        pytest.skip(f"no FastAPI yardstick at {PEER}")
    port = free_port()
    log = (tmp_path / "peer.log").open("w")
    process = subprocess.Popen(
        [str(PEER), str(port), subprocess_database_url()],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # the first run builds the yardstick's venv
    try:
        while True:
            assert process.poll() is None, (tmp_path / "peer.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the FastAPI yardstick did not start"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def fields(response: httpx.Response) -> list[tuple[str, ...]]:
    assert response.status_code == 422, response.text
    return [tuple(str(part) for part in error["loc"]) for error in response.json()["detail"]]


async def test_422_lists_the_same_invalid_fields_as_fastapi(api, fastapi_peer):
    for body in BAD_BODIES:
        ours = await api.post(SIGNUP, json=body)
        theirs = httpx.post(f"{fastapi_peer}{SIGNUP}", json=body, timeout=10)
        assert sorted(set(fields(ours))) == sorted(set(fields(theirs))), body
        for error in ours.json()["detail"]:
            assert {"type", "loc", "msg"} <= set(error) <= {"type", "loc", "msg", "ctx"}
        ours_email = [e["type"] for e in ours.json()["detail"] if e["loc"][1:] == ["email"]]
        theirs_email = [e["type"] for e in theirs.json()["detail"] if e["loc"][1:] == ["email"]]
        assert ours_email == theirs_email, body
