"""Where worker processes keep their metric values together (prometheus-client's multiprocess
mode), decided before prometheus_client is first imported: this module must not import it.

- `python -m server.serve` with METRICS_TOKEN makes a fresh directory (or empties the
  `*.db` files of PROMETHEUS_MULTIPROC_DIR when the operator names one), hands it to its
  workers through the environment and removes what it made when it exits.
- Plain `uvicorn --workers N`: each worker is a child of uvicorn's supervisor and nothing made
  a directory for them, so each names one after that supervisor's pid (`worker_directory_export`,
  called by project.asgi), the same for every sibling, private to this user. It is not removed
  (nothing of ours outlives the workers to do it); a container's /tmp goes with the container.
"""

import contextlib
import multiprocessing
import os
import shutil
import stat
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from toolkit.env import env_str

PREFIX = "accounts-metrics-"
# prometheus-client reads it from the environment, when first imported and whenever it opens a file.
VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def worker_directory_export(*, metrics_on: bool) -> str:
    """The directory this worker keeps its metric values in, "" for its own memory; called before
    prometheus_client is first imported, which reads it from the environment.

    PROMETHEUS_MULTIPROC_DIR as the operator or `python -m server.serve` set it: read from the
    environment, not from settings, since serve sets it after its settings were read and runs a
    single worker in its own process. A worker of plain `uvicorn --workers N` with metrics on and
    no directory set gets the one its siblings share.
    """
    directory = env_str(VARIABLE)
    if not directory and metrics_on and spawned_by_a_supervisor():
        directory = supervisor_directory()
        os.environ[VARIABLE] = directory
    return directory


def spawned_by_a_supervisor() -> bool:
    """Whether this process is a worker started by uvicorn's supervisor (`--workers N`,
    `--reload`): multiprocessing's spawn, the only way uvicorn starts workers."""
    return multiprocessing.parent_process() is not None


def supervisor_directory() -> str:
    """The directory shared by every worker of this process's supervisor."""
    path = Path(tempfile.gettempdir()) / f"{PREFIX}{os.getuid()}-{os.getppid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    # A predictable name in a shared /tmp: refuse one that someone else made or linked.
    info = path.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise ImproperlyConfigured(
            f"{path} (for metrics of uvicorn's workers) is not a private directory of this "
            f"user: set PROMETHEUS_MULTIPROC_DIR, or serve with python -m server.serve."
        )
    return str(path)


def fresh_directory() -> str:
    return tempfile.mkdtemp(prefix=PREFIX)


def directory_empty(path: str) -> None:
    """Remove the value files a previous run left (stale counters would add up with ours)."""
    for leftover in Path(path).glob("*.db"):
        leftover.unlink(missing_ok=True)


def directory_remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
