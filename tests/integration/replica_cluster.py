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
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..engines import SERVERS

PG_BIN = Path(os.environ.get("JADUGAR_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PREFERRED_PORT = 5433
REPLICATION_LINE = "host replication all 127.0.0.1/32 trust"
_TIMEOUT = 60  # seconds for any one setup command


class ReplicaUnavailable(Exception):
    """The replica could not be set up; the message says why."""


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(cmd: list[str], what: str, *, as_postgres: bool = True) -> str:
    full = (_as_postgres() if as_postgres else []) + cmd
    try:
        done = subprocess.run(
            full,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReplicaUnavailable(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-2000:]
        raise ReplicaUnavailable(f"{what} exited {done.returncode}: {output}")
    return done.stdout


def _psql(port: int, sql: str, *, host: str = "127.0.0.1") -> str:
    """One statement as the superuser; the result unaligned, without headers."""
    psql = [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    return _run(
        [*psql, "-h", host, "-p", str(port), "-U", "postgres", "-d", "test", "-c", sql],
        "psql",
        as_postgres=False,
    ).strip()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL does
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_port() -> int:
    if _port_free(PREFERRED_PORT):
        return PREFERRED_PORT
    with socket.socket() as sock:  # 5433 is taken (another run?): any free port
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _allow_replication(primary_port: int) -> None:
    """Make sure the primary's pg_hba.conf lets 127.0.0.1 connect for replication."""
    hba = Path(_psql(primary_port, "SHOW hba_file"))
    try:
        text = hba.read_text()
    except OSError as exc:
        raise ReplicaUnavailable(f"cannot read the primary's {hba}: {exc}") from exc
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 4 and fields[0] == "host" and fields[1] == "replication":
            return
    try:
        with hba.open("a") as out:
            out.write(("" if text.endswith("\n") else "\n") + REPLICATION_LINE + "\n")
    except OSError as exc:
        raise ReplicaUnavailable(f"cannot add {REPLICATION_LINE!r} to {hba}: {exc}") from exc
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
        _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            "pg_ctl stop",
        )

    def start(self) -> None:
        log = self.root / "postgres.log"
        try:
            _run(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "start"],
                "pg_ctl start",
            )
        except ReplicaUnavailable as exc:
            tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
            raise ReplicaUnavailable(f"{exc}\n{tail}") from exc
        self.wait_streaming()

    def wait_streaming(self, timeout: float = 15.0) -> None:
        """Until the replica is in recovery and its WAL receiver streams from the primary."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            with contextlib.suppress(ReplicaUnavailable):
                last = self.psql(
                    "SELECT pg_is_in_recovery()::text || ' ' ||"
                    " coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')"
                )
                if last == "true streaming":
                    return
            time.sleep(0.1)
        raise ReplicaUnavailable(f"the replica on {self.port} is not streaming: {last!r}")


def start_replica() -> ReplicaCluster:
    """pg_basebackup + pg_ctl start; raises ReplicaUnavailable with the reason. On failure
    everything it made is removed again."""
    for binary in ("pg_basebackup", "pg_ctl", "psql"):
        if not (PG_BIN / binary).is_file():
            raise ReplicaUnavailable(f"{PG_BIN / binary} not found (set JADUGAR_TEST_PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise ReplicaUnavailable("running as root and runuser is not installed")
    primary_port = SERVERS["postgres"][1]
    _allow_replication(primary_port)
    root = Path(tempfile.mkdtemp(prefix="jadugar-replica-"))
    started = False
    try:
        if os.geteuid() == 0:
            try:
                shutil.chown(root, "postgres", "postgres")
            except (LookupError, OSError) as exc:
                raise ReplicaUnavailable(f"cannot hand {root} to postgres: {exc}") from exc
        data = root / "data"
        _run(
            [
                *(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port)),
                *("-U", "postgres", "-D", str(data), "-R", "-X", "stream", "-c", "fast"),
            ],
            "pg_basebackup",
        )
        port = _pick_port()
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
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf"):
                shutil.chown(data / name, "postgres", "postgres")
        cluster = ReplicaCluster(root, port, primary_port)
        started = True
        cluster.start()
        return cluster
    except BaseException:
        if started:
            _stop_quietly(root)
        shutil.rmtree(root, ignore_errors=True)
        raise


def _stop_quietly(root: Path) -> None:
    with contextlib.suppress(ReplicaUnavailable):
        _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
            "pg_ctl stop",
        )


def session_replica() -> Iterator[ReplicaCluster]:
    """The body of the session-scoped ``replica_cluster`` fixture."""
    try:
        cluster = start_replica()
    except ReplicaUnavailable as exc:
        reason = f"throwaway PostgreSQL replica unavailable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: it is required)")
        pytest.skip(reason)
    try:
        yield cluster
    finally:
        _stop_quietly(cluster.root)
        shutil.rmtree(cluster.root, ignore_errors=True)
