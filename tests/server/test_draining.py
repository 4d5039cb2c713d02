"""Readiness fails the moment SIGTERM arrives (server.draining), before uvicorn's shutdown."""

import asyncio
import signal

import pytest
import uvicorn

from server.draining import drain_on_signal
from toolkit import lifecycle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def uvicorn_server():
    """A real uvicorn Server whose SIGTERM and SIGINT handlers are installed, as while serving."""
    server = uvicorn.Server(uvicorn.Config("project.asgi:application"))
    previous = {
        sig: signal.signal(sig, server.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    yield server
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    lifecycle.draining.clear()


async def test_sigterm_fails_readiness_at_once_and_still_reaches_uvicorn(api, uvicorn_server):
    assert (await api.get("/health/ready")).status_code == 200
    assert drain_on_signal()
    signal.raise_signal(signal.SIGTERM)
    for _ in range(100):
        if lifecycle.draining.is_set():
            break
        await asyncio.sleep(0.01)
    response = await api.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["process:draining"] == [
        {"status": "fail", "observedValue": True}
    ]
    # uvicorn's own handler ran too: its shutdown (stop accepting, drain) goes on as before.
    assert uvicorn_server.should_exit


async def test_outside_uvicorn_no_handler_is_wrapped():
    previous = signal.getsignal(signal.SIGTERM)
    assert not drain_on_signal()
    assert signal.getsignal(signal.SIGTERM) is previous
