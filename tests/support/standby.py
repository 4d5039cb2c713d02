"""A PostgreSQL primary and a synchronous streaming standby, for failover tests: the primary is
killed as a crash would kill it (`pg_ctl -m immediate`) and the standby promoted.

Synchronous: the primary confirms a commit only once the standby has the commit's WAL, so
whatever a client was told is committed is on the standby when it takes over. The processes are
killed, not the machine: fsync stays off, as in every throwaway cluster here.
"""

import os
import shutil
import time
from urllib.parse import quote

import psycopg

from tests.support.pgcluster import SUPERUSER, Cluster, start_cluster

PRIMARY_SETTINGS = [
    "wal_level = replica",
    "max_wal_senders = 4",
    # Any standby: the one below.
    "synchronous_standby_names = '*'",
    # Wait for the standby's flush before answering a commit (pgcluster turns it off).
    "synchronous_commit = on",
]


def start_replicated_pair() -> tuple[Cluster, Cluster]:
    """A running primary, and a standby streaming from it synchronously."""
    primary = start_cluster()
    standby = Cluster(password=primary.password)
    try:
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(PRIMARY_SETTINGS) + "\n")
        primary.stop()
        primary.start()
        if os.geteuid() == 0:
            shutil.chown(standby.directory, SUPERUSER)
        standby.directory.chmod(0o700)
        source = (
            f"host=127.0.0.1 port={primary.port} user={SUPERUSER} "
            f"password={primary.password} sslmode=prefer"
        )
        standby.run(
            str(standby.bin / "pg_basebackup"),
            *("-D", str(standby.data), "-R", "-X", "stream", "-c", "fast", "-d", source),
        )
        with (standby.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {standby.port}\n"
                f"unix_socket_directories = '{standby.directory}'\n"
                # Once promoted, it has no standby of its own to wait for.
                "synchronous_standby_names = ''\n"
            )
        standby.start()
        replication_wait(primary)
    except BaseException:
        standby.remove()
        primary.remove()
        raise
    return primary, standby


def replication_wait(primary: Cluster, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(primary.url(), autocommit=True) as connection:
            row = connection.execute("SELECT state, sync_state FROM pg_stat_replication").fetchone()
        if row == ("streaming", "sync"):
            return
        time.sleep(0.2)
    raise AssertionError(f"the standby did not stream synchronously within {timeout} s")


def kill_immediately(cluster: Cluster) -> None:
    """A crash, as far as clients can tell: no checkpoint, connections cut."""
    cluster.run(str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop")


def promote(cluster: Cluster) -> None:
    cluster.run(str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "-w", "promote")


def failover_url(primary: Cluster, standby: Cluster, database: str) -> str:
    """libpq's way to follow a failover: both hosts, and only a read-write one will do."""
    return (
        f"postgresql://{SUPERUSER}:{quote(primary.password, safe='')}"
        f"@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/{database}"
        "?target_session_attrs=read-write"
    )
