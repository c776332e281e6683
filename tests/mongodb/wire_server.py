"""The MongoDB server the ``server-motor`` / ``server-pymongo`` test variants run against
when ``JADUGAR_MONGODB_URL`` is not set: NX-27017 (PyPI ``nx-27017``, in the ``dev``
extra), a MongoDB wire-protocol server written in Python over SQLite. No server binary
is downloaded: it runs in a child process of this interpreter, on a free loopback port,
with in-memory databases, and is stopped when the test session ends.

The child also exits by itself when this process dies (it watches its stdin, a pipe from
us, for end of file), so a killed test run leaves no server behind.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

EMULATOR = "nx-27017"  # the PyPI name
MODULE = "nx_27017"  # what it imports as, and what its buildInfo names as ``process``
HOST = "127.0.0.1"
DATABASE = "jadugar_test"
START_TIMEOUT = 20.0  # seconds for the child to listen and answer ``hello``
STOP_TIMEOUT = 5.0
ATTEMPTS = 3  # a free port can be taken between choosing it and the child binding it

# Run in the child: exit when the parent's end of stdin closes, then the server's CLI.
_CHILD = """\
import os, sys, threading

def _exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)

threading.Thread(target=_exit_with_parent, daemon=True).start()
from nx_27017 import main
main()
"""


class WireServerUnavailable(Exception):
    """The server could not be started; the message says why."""


def installed() -> bool:
    return importlib.util.find_spec(MODULE) is not None


def version() -> str:
    try:
        return importlib.metadata.version(EMULATOR)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def is_emulator(build_info: dict[str, Any]) -> bool:
    """True when ``buildInfo`` came from NX-27017 (a real mongod has no ``process`` there)."""
    return build_info.get("process") == MODULE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-1500:].strip() if path.is_file() else ""


class WireServer:
    """One NX-27017 child process; ``url`` once ``start`` returned."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="jadugar-nx27017-"))
        self.output = self.workdir / "server.out"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{HOST}:{self.port}/{DATABASE}"

    def start(self) -> str:
        """Start the server on a free port (trying another if that one was taken)."""
        if not installed():
            raise WireServerUnavailable(
                f"the {EMULATOR} package is not installed (pip install -e '.[dev]')"
            )
        failure = ""
        for _ in range(ATTEMPTS):
            self.port = free_port()
            try:
                self._spawn()
                return self.url
            except WireServerUnavailable as exc:
                failure = str(exc)
                self.stop(remove=False)
        self.stop()
        raise WireServerUnavailable(failure)

    def _spawn(self) -> None:
        command = [
            sys.executable,
            "-c",
            _CHILD,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--data-dir",
            "memory",  # one in-memory SQLite database per MongoDB database
            "--log-file",
            str(self.workdir / "nx-27017.log"),
            "--pid-file",
            str(self.workdir / "nx-27017.pid"),
        ]
        self._out = self.output.open("ab")
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise WireServerUnavailable(
                    f"{EMULATOR} exited {code} on port {self.port}:\n{_log_tail(self.output)}"
                )
            if self._answers():
                return
            time.sleep(0.05)
        raise WireServerUnavailable(
            f"{EMULATOR} did not answer on {HOST}:{self.port} within {START_TIMEOUT:.0f} s:\n"
            f"{_log_tail(self.output)}"
        )

    def _answers(self) -> bool:
        """The port accepts a connection and the server there is NX-27017."""
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5):
                pass
        except OSError:
            return False
        from pymongo import MongoClient

        client: MongoClient[dict[str, Any]] = MongoClient(
            HOST, self.port, serverSelectionTimeoutMS=2000, connect=False
        )
        try:
            return is_emulator(client.admin.command("buildInfo"))
        except Exception:
            return False
        finally:
            client.close()

    def stop(self, *, remove: bool = True) -> None:
        """Stop the child (closing its stdin ends it; SIGTERM, then SIGKILL, if not)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        elif proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if self._out is not None:
            self._out.close()
            self._out = None
        if remove:
            shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def running() -> Iterator[WireServer]:
    """An NX-27017 server for the duration of the block."""
    server = WireServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
