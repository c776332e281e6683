"""What the throwaway database servers of the integration tests share (replica_cluster.py,
tls_cluster.py, mariadb_replica.py): running their setup commands, free ports, the
PostgreSQL binaries run as the ``postgres`` user, and skipping (or, under ``CI=true``,
failing) their tests when a server cannot start."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import NoReturn

import pytest

PG_BIN = Path(os.environ.get("JADUGAR_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
TIMEOUT = 60  # seconds for any one setup command
MARIADB_CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"
_LOST = ("ERROR 2013", "ERROR 2002", "ERROR 2003")  # the connection, not the statement


class ServerUnavailable(Exception):
    """A throwaway server could not be set up; the message says why."""


def postgres_user_prefix() -> list[str]:
    """What runs a command as the ``postgres`` user when we are root (PostgreSQL refuses
    to run as root)."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def run(cmd: list[str], what: str, *, as_postgres: bool = True) -> str:
    """Run a setup command (as postgres unless told otherwise) and return its output."""
    full = (postgres_user_prefix() if as_postgres else []) + cmd
    try:
        done = subprocess.run(
            full,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerUnavailable(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-2000:]
        raise ServerUnavailable(f"{what} exited {done.returncode}: {output}")
    return done.stdout


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(preferred: int, taken: int = 0) -> int:
    """``preferred`` when it is free and not ``taken``, else any free port."""
    if preferred != taken and port_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, preferred: tuple[int, ...] = ()) -> list[int]:
    """``count`` distinct free loopback ports: the preferred ones when they are all free."""
    if len(preferred) == count and all(port_free(p) for p in preferred):
        return list(preferred)
    ports: list[int] = []
    sockets = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
            ports.append(int(sock.getsockname()[1]))
    finally:
        for sock in sockets:
            sock.close()
    return ports


def mariadb_sql(port: int, sql: str, attempts: int = 5) -> str:
    """One statement through the ``mariadb`` client; a connection lost while the server is
    busy starting (seen under load) is tried again, up to ``attempts`` times."""
    cmd = [MARIADB_CLIENT, "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-N", "-B", "-e", sql]
    for attempt in range(1, attempts + 1):
        try:
            return run(cmd, f"mariadb -P {port}", as_postgres=False).strip()
        except ServerUnavailable as exc:
            lost = any(code in str(exc) for code in _LOST)
            if attempt == attempts or not lost:
                raise
        time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:] if log.is_file() else ""


def require_postgres_binaries(*names: str) -> None:
    for binary in names:
        if not (PG_BIN / binary).is_file():
            raise ServerUnavailable(f"{PG_BIN / binary} not found (set JADUGAR_TEST_PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise ServerUnavailable("running as root and runuser is not installed")


def hand_to_postgres(first: Path, *more: Path) -> None:
    """As root, give the files to the postgres user; otherwise nothing."""
    if os.geteuid() != 0:
        return
    try:
        for path in (first, *more):
            shutil.chown(path, "postgres", "postgres")
    except (LookupError, OSError) as exc:
        raise ServerUnavailable(f"cannot hand {first} to postgres: {exc}") from exc


def pg_ctl_start(data: Path, log: Path, *options: str) -> None:
    """``pg_ctl start`` with ``options``; on failure the message ends with the log's tail."""
    try:
        run(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), *options, "start"],
            "pg_ctl start",
        )
    except ServerUnavailable as exc:
        raise ServerUnavailable(f"{exc}\n{log_tail(log)}") from exc


def pg_ctl_stop(data: Path) -> None:
    run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], "pg_ctl stop")


def remove_cluster(root: Path, *, running: bool = True) -> None:
    """Stop the PostgreSQL cluster of ``root / "data"`` if ``running`` (a failure to stop
    is ignored) and delete ``root``."""
    if running:
        with contextlib.suppress(ServerUnavailable):
            pg_ctl_stop(root / "data")
    shutil.rmtree(root, ignore_errors=True)


def skip_unavailable(reason: str, *, required: str = "it is required") -> NoReturn:
    """Skip the tests that need the server; under ``CI=true`` fail them instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: {required})")
    pytest.skip(reason)
