"""A throwaway PostgreSQL streaming replica of the shared test server (127.0.0.1:5432).

``pg_basebackup -R`` copies the primary into a temporary folder (it writes
``standby.signal`` and ``primary_conninfo``), a minimal ``postgresql.conf`` and
``pg_hba.conf`` are written next to it, and ``pg_ctl`` starts it on port 5433 (another
free port when 5433 is taken). PostgreSQL refuses to run as root, so as root every binary
runs as the ``postgres`` user (``runuser -u postgres --``) and the folder belongs to it.

The primary must accept replication connections from 127.0.0.1: when its ``pg_hba.conf``
(``SHOW hba_file``) has no ``replication`` line, ``host replication all 127.0.0.1/32
trust`` is appended and the configuration reloaded (``pg_reload_conf()``); the line stays.

The ``replica_cluster`` fixture (tests/integration/conftest.py) starts it once per test
session and stops it (``pg_ctl stop -m immediate``) and removes it at the end, also when
tests fail. When it cannot start, its tests skip with the reason; with ``CI=true`` they
fail.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..engines import SERVERS
from .local_servers import (
    PG_BIN,
    ServerUnavailable,
    hand_to_postgres,
    pg_ctl_start,
    pg_ctl_stop,
    pick_port,
    remove_cluster,
    require_postgres_binaries,
    run,
    skip_unavailable,
)

PREFERRED_PORT = 5433
REPLICATION_LINE = "host replication all 127.0.0.1/32 trust"


def _psql(port: int, sql: str, *, host: str = "127.0.0.1") -> str:
    """One statement as the superuser; the result unaligned, without headers."""
    psql = [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    return run(
        [*psql, "-h", host, "-p", str(port), "-U", "postgres", "-d", "test", "-c", sql],
        "psql",
        as_postgres=False,
    ).strip()


def _allow_replication(primary_port: int) -> None:
    """Make sure the primary's pg_hba.conf lets 127.0.0.1 connect for replication."""
    hba = Path(_psql(primary_port, "SHOW hba_file"))
    try:
        text = hba.read_text()
    except OSError as exc:
        raise ServerUnavailable(f"cannot read the primary's {hba}: {exc}") from exc
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 4 and fields[0] == "host" and fields[1] == "replication":
            return
    try:
        with hba.open("a") as out:
            out.write(("" if text.endswith("\n") else "\n") + REPLICATION_LINE + "\n")
    except OSError as exc:
        raise ServerUnavailable(f"cannot add {REPLICATION_LINE!r} to {hba}: {exc}") from exc
    _psql(primary_port, "SELECT pg_reload_conf()")


@dataclass(frozen=True)
class ReplicaCluster:
    """The running replica: its folder (owned by postgres) and port."""

    root: Path
    port: int
    primary_port: int
    port_sql: str = "inet_server_port()"  # the serving server's port, in a SELECT

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/test"

    def primary_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/test"

    def psql(self, sql: str) -> str:
        return _psql(self.port, sql)

    def set_apply_delay(self, seconds: float) -> None:
        """``recovery_min_apply_delay``: replay each transaction only this long after its
        commit on the primary (0: as soon as it arrives)."""
        self.psql(f"ALTER SYSTEM SET recovery_min_apply_delay = '{int(seconds * 1000)}ms'")
        self.psql("SELECT pg_reload_conf()")

    def stop(self) -> None:
        pg_ctl_stop(self.data)

    def start(self) -> None:
        pg_ctl_start(self.data, self.root / "postgres.log", "-w")
        self.wait_streaming()

    def wait_streaming(self, timeout: float = 15.0) -> None:
        """Until the replica is in recovery and its WAL receiver streams from the primary."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            with contextlib.suppress(ServerUnavailable):
                last = self.psql(
                    "SELECT pg_is_in_recovery()::text || ' ' ||"
                    " coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')"
                )
                if last == "true streaming":
                    return
            time.sleep(0.1)
        raise ServerUnavailable(f"the replica on {self.port} is not streaming: {last!r}")


def start_replica() -> ReplicaCluster:
    """pg_basebackup + pg_ctl start; raises ServerUnavailable with the reason. On failure
    everything it made is removed again."""
    require_postgres_binaries("pg_basebackup", "pg_ctl", "psql")
    primary_port = SERVERS["postgres"][1]
    _allow_replication(primary_port)
    root = Path(tempfile.mkdtemp(prefix="jadugar-replica-"))
    started = False
    try:
        hand_to_postgres(root)
        data = root / "data"
        run(
            [
                *(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port)),
                *("-U", "postgres", "-D", str(data), "-R", "-X", "stream", "-c", "fast"),
            ],
            "pg_basebackup",
        )
        port = pick_port(PREFERRED_PORT)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{root}'",
            "max_connections": "100",  # a standby needs at least the primary's
            "hot_standby": "on",
            "hot_standby_feedback": "on",
            "fsync": "off",
            "wal_receiver_status_interval": "1s",
        }
        config = "".join(f"{name} = {value}\n" for name, value in settings.items())
        (data / "postgresql.conf").write_text("# written by replica_cluster.py\n" + config)
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        hand_to_postgres(data / "postgresql.conf", data / "pg_hba.conf")
        cluster = ReplicaCluster(root, port, primary_port)
        started = True
        cluster.start()
        return cluster
    except BaseException:
        remove_cluster(root, running=started)
        raise


def session_replica() -> Iterator[ReplicaCluster]:
    """The body of the session-scoped ``replica_cluster`` fixture."""
    try:
        cluster = start_replica()
    except ServerUnavailable as exc:
        skip_unavailable(f"throwaway PostgreSQL replica unavailable: {exc}")
    try:
        yield cluster
    finally:
        remove_cluster(cluster.root)
