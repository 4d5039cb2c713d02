"""The supervisor of `python -m server.serve` with several workers, on its own: a SIGTERM goes to
the workers at once, and no worker is started in the middle of the shutdown."""

import signal
from collections.abc import Iterator

import pytest
import uvicorn
from uvicorn.supervisors import multiprocess

from server.serve import DrainingSupervisor


class ExitedWorker:
    """A worker as the supervisor sees it once SIGTERM has ended it."""

    exitcode = 0
    pid = 4321

    def __init__(self) -> None:
        self.terminated = 0

    def is_alive(self, timeout: float = 5) -> bool:
        return False

    def terminate(self) -> None:
        self.terminated += 1

    def kill(self) -> None:
        pass

    def join(self) -> None:
        pass


@pytest.fixture
def supervisor(monkeypatch) -> Iterator[DrainingSupervisor]:
    started: list[object] = []

    class RecordedProcess:
        def __init__(self, *args: object) -> None:
            started.append(self)

        def start(self) -> None:
            pass

    monkeypatch.setattr(multiprocess, "Process", RecordedProcess)
    saved = {sig: signal.getsignal(sig) for sig in multiprocess.SIGNALS}
    try:
        made = DrainingSupervisor(uvicorn.Config("project.asgi:application", workers=2), [])
        made.processes = [ExitedWorker(), ExitedWorker()]  # type: ignore[list-item]
        made.started = started  # type: ignore[attr-defined]
        yield made
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_a_worker_that_dies_is_replaced(supervisor):
    supervisor.keep_subprocess_alive()
    assert len(supervisor.started) == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_reaches_every_worker_at_once_and_none_is_replaced(supervisor, sig):
    supervisor.terminate_now(sig, None)  # the handler installed for it
    assert signal.getsignal(sig) == supervisor.terminate_now
    assert [worker.terminated for worker in supervisor.processes] == [1, 1]
    # uvicorn's loop may look at its workers before at its signal queue: they are gone by then.
    supervisor.keep_subprocess_alive()
    assert supervisor.started == []
    # Its own shutdown still runs from the queue.
    supervisor.handle_signals()
    assert supervisor.should_exit.is_set()
