"""A throwaway MariaDB primary (127.0.0.1:3308, binary log on) and its replica (3307).

The shared server on 3306 runs with ``log_bin`` off and turning it on needs a restart of
that shared service, so both servers here are temporary: ``mariadb-install-db`` makes one
data folder, a copy of it becomes the replica's, and ``mariadbd`` runs on each (as root:
``--user=root``). The replica follows the primary by GTID (``MASTER_USE_GTID=slave_pos``)
and is ``read_only``. Other free ports are used when 3308 or 3307 are taken.

The ``mariadb_replica`` fixture (tests/integration/conftest.py) starts them once per test
session and stops and removes them at the end, also when tests fail. When they cannot
start, their tests skip with the reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .local_servers import (
    MARIADB_CLIENT,
    ServerUnavailable,
    log_tail,
    mariadb_sql,
    pick_port,
    run,
    skip_unavailable,
)

MARIADBD = Path(os.environ.get("JADUGAR_TEST_MARIADBD", "/usr/sbin/mariadbd"))
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
PRIMARY_PORT, REPLICA_PORT = 3308, 3307


@dataclass
class _Server:
    folder: Path
    port: int
    server_id: int
    extra: tuple[str, ...]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(MARIADBD),
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.folder / 'sock'}",
                f"--pid-file={self.folder / 'pid'}",
                f"--log-error={self.folder / 'error.log'}",
                "--user=root",
                "--skip-name-resolve",
                f"--server-id={self.server_id}",
                "--innodb-buffer-pool-size=32M",
                *self.extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(ServerUnavailable):
                mariadb_sql(self.port, "SELECT 1", attempts=1)
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = log_tail(self.folder / "error.log")
                raise ServerUnavailable(f"mariadbd on {self.port} did not start:\n{tail}")
            time.sleep(0.1)

    def stop(self, *, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class MariaDBReplica:
    """The temporary primary and replica; ``stop()``/``start()`` act on the replica."""

    root: Path
    primary: _Server
    replica: _Server
    port_sql: str = "@@port"  # the serving server's port, in a SELECT

    @property
    def port(self) -> int:
        return self.replica.port

    @property
    def primary_port(self) -> int:
        return self.primary.port

    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.replica.port}/test"

    def primary_url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.primary.port}/test"

    def set_apply_delay(self, seconds: float) -> None:
        """``MASTER_DELAY`` (whole seconds, rounded up): apply events only this long after
        they were written on the primary."""
        delay = int(-(-seconds // 1))
        mariadb_sql(self.port, f"STOP SLAVE; CHANGE MASTER TO MASTER_DELAY={delay}; START SLAVE")

    def stop(self) -> None:
        self.replica.stop(kill=True)

    def start(self) -> None:
        self.replica.start()  # replication resumes by itself (its position is kept)

    def close(self) -> None:
        self.replica.stop(kill=True)
        self.primary.stop(kill=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_mariadb_replica() -> MariaDBReplica:
    for binary in (str(MARIADBD), INSTALL_DB, MARIADB_CLIENT):
        if not Path(binary).is_file():
            raise ServerUnavailable(f"{binary} not found")
    root = Path(tempfile.mkdtemp(prefix="jadugar-mariadb-"))
    primary_port = pick_port(PRIMARY_PORT)
    primary = _Server(
        root / "primary",
        primary_port,
        1,
        ("--log-bin=binlog", "--binlog-format=ROW"),
    )
    replica = _Server(
        root / "replica", pick_port(REPLICA_PORT, primary_port), 2, ("--read-only=1",)
    )
    cluster = MariaDBReplica(root, primary, replica)
    try:
        primary.folder.mkdir()
        replica.folder.mkdir()
        run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={primary.folder / 'data'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            "mariadb-install-db",
            as_postgres=False,
        )
        shutil.copytree(primary.folder / "data", replica.folder / "data", symlinks=True)
        primary.start()
        replica.start()
        mariadb_sql(primary.port, "CREATE DATABASE test")
        mariadb_sql(
            replica.port,
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port},"
            " MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos,"
            " MASTER_CONNECT_RETRY=1; START SLAVE",
        )
        deadline = time.monotonic() + 15
        while mariadb_sql(replica.port, "SHOW DATABASES LIKE 'test'") != "test":
            if time.monotonic() > deadline:
                status = mariadb_sql(replica.port, "SHOW SLAVE STATUS")
                raise ServerUnavailable(f"the replica does not replicate: {status[-1500:]}")
            time.sleep(0.1)
        return cluster
    except BaseException:
        cluster.close()
        raise


def session_mariadb_replica() -> Iterator[MariaDBReplica]:
    """The body of the session-scoped ``mariadb_replica`` fixture."""
    try:
        cluster = start_mariadb_replica()
    except (ServerUnavailable, OSError, subprocess.SubprocessError) as exc:
        skip_unavailable(
            f"throwaway MariaDB primary and replica unavailable: {exc}",
            required="they are required",
        )
    try:
        yield cluster
    finally:
        cluster.close()
