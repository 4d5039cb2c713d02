"""The batching thread hands items over in order, a batch at a time, and outlives a batch that
failed."""

import threading
import time

from server.batching import BatchingQueue


def test_items_reach_the_handler_in_order_in_one_batch():
    batches: list[list[int]] = []
    queue = BatchingQueue("tests-batching", batches.append, delay=0.05, size=100)
    for number in range(20):
        queue.put(number)
    queue.stop()
    assert batches == [list(range(20))]


def test_the_thread_goes_on_after_a_batch_that_failed(capsys):
    handled: list[list[str]] = []
    done = threading.Event()

    def handle(batch: list[str]) -> None:
        if batch == ["broken"]:
            raise ValueError("a handler's bug")
        handled.append(batch)
        done.set()

    queue = BatchingQueue("tests-batching", handle, delay=0.01, size=100)
    queue.put("broken")
    time.sleep(0.2)
    queue.put("after")
    assert done.wait(5)
    queue.stop()
    assert handled == [["after"]]
    assert "tests-batching: a batch was not handled" in capsys.readouterr().err


def test_a_stopped_queue_takes_up_items_again_with_a_new_thread():
    batches: list[list[str]] = []
    queue = BatchingQueue("tests-batching", batches.append, delay=0.01, size=100)
    queue.put("first")
    queue.stop()
    queue.put("second")
    queue.stop()
    assert batches == [["first"], ["second"]]
