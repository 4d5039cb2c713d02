"""A thread of the process that takes what the request path hands it in batches: the log writer
(server.logging) and the recorder of answered requests (server.access) each have one.

The request's thread only appends to a bounded queue: a full queue drops the item and counts
it, never blocking a request. The thread is woken by the first item of a batch and lets the
batch gather for `delay`, so a busy worker pays one wake-up for many items and an idle one
nothing; the work each item needs (formatting, metrics' locked writes) happens there, in one
tight loop over the batch. What is queued is handled at exit, and `drain` hands it over at
once from any thread.
"""

import atexit
import os
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable

# Seconds an exit waits for the thread to handle what is queued (a stuck stream must not hang it).
STOP_TIMEOUT = 10

# Which process this is, as the queues need to know (a forked child has no thread): bumped in a
# child after fork, so no getpid system call is made per item.
process_generation = 0


def process_generation_bump() -> None:
    global process_generation
    process_generation += 1


os.register_at_fork(after_in_child=process_generation_bump)


class BatchingQueue[Item]:
    """Items handed to `handle` in batches by a thread named `name`, started with the first item
    in each process (a forked child starts its own and leaves the parent's items to the parent).

    `handle` gets a list of items in the order they were put, never two batches at once (the
    thread and `drain` take turns), and must not raise. `dropped` counts what a full queue
    refused; its owner says so, asking `dropped_unreported` how many it has not said yet.
    """

    def __init__(
        self, name: str, handle: Callable[[list[Item]], None], *, delay: float, size: int
    ) -> None:
        self.name = name
        self.handle = handle
        self.delay = delay
        self.size = size
        self.items: deque[Item] = deque()
        self.dropped = 0
        self.reported = 0
        self.wake = threading.Event()
        self.stop_requested = threading.Event()
        self.thread: threading.Thread | None = None
        self.running_in: int | None = None  # the process generation whose thread drains it
        self.owned_by = process_generation  # the process whose items these are
        self.starting = threading.Lock()
        self.handling = threading.Lock()

    def put(self, item: Item) -> None:
        if self.running_in != process_generation:
            self.start()
        if len(self.items) >= self.size:
            self.dropped += 1
            return
        self.items.append(item)
        if not self.wake.is_set():
            self.wake.set()

    def dropped_unreported(self) -> int:
        """How many were dropped since the last time this was asked (counted as said)."""
        lost = self.dropped - self.reported
        self.reported += lost
        return lost

    def start(self) -> None:
        with self.starting:
            if self.running_in == process_generation:
                return
            if self.owned_by != process_generation:
                # In a forked child, what the parent had queued is the parent's to handle, and
                # a batch the parent was handling holds a lock no thread here will release.
                self.items.clear()
                self.handling = threading.Lock()
                self.owned_by = process_generation
            self.stop_requested.clear()
            self.wake.clear()
            self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
            self.thread.start()
            self.running_in = process_generation
            atexit.register(self.stop)

    def run(self) -> None:
        while True:
            self.wake.wait()
            self.stop_requested.wait(self.delay)
            self.wake.clear()
            self.drain()
            if self.stop_requested.is_set() and not self.items:
                return

    def drain(self) -> None:
        """Hand what is queued to `handle` now, in the calling thread (after any batch the thread
        is handling)."""
        with self.handling:
            batch: list[Item] = []
            while True:
                try:
                    batch.append(self.items.popleft())
                except IndexError:
                    break
            if batch:
                try:
                    self.handle(batch)
                except Exception:
                    # The thread goes on with the next batch; the error must not vanish.
                    sys.stderr.write(f"--- {self.name}: a batch was not handled\n")
                    traceback.print_exc(file=sys.stderr)

    def handle_now(self, item: Item) -> None:
        """Hand one item to `handle` in the calling thread, in turn with the batches."""
        with self.handling:
            self.handle([item])

    def stop(self) -> None:
        """Handle what is queued, then stop the thread."""
        with self.starting:
            thread = self.thread
            if self.running_in == process_generation and thread is not None:
                self.stop_requested.set()
                self.wake.set()
                thread.join(STOP_TIMEOUT)
            self.running_in = None
            self.thread = None
            if thread is None or not thread.is_alive():
                # What came after the thread's last look (a stuck thread keeps its lock: skip).
                self.drain()
