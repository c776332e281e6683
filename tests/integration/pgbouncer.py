"""PgBouncer in transaction pooling mode in front of the shared test PostgreSQL (5432).

``start_pgbouncer()`` writes a ``pgbouncer.ini`` (``SETTINGS``, the text the README shows)
and an ``auth_file`` into a temporary folder, starts the ``pgbouncer`` binary on a free
loopback port and waits until it listens. PgBouncer refuses to run as root:
as root it is started with ``-u postgres`` (it reads its files, then drops to that user).
Its log goes to ``pgbouncer.log`` in the folder; a failed start names its tail.

The session-scoped ``pgbouncer`` fixture (tests/integration/conftest.py) starts one for
the ``pgbouncer`` engine variant and stops it (SIGTERM, then SIGKILL) at the end of the
session, also when tests fail. Tests that need one with other limits (a tiny
``max_client_conn``) start their own with ``start_pgbouncer(max_client_conn=1)`` and
``stop()`` it. When the binary is missing (``JADUGAR_TEST_PGBOUNCER`` names another) its
tests skip with the reason; with ``CI=true`` they fail (``make setup`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..engines import SERVERS
from .local_servers import PG_BIN, ServerUnavailable, log_tail, pick_port, run, skip_unavailable

BINARY = Path(
    os.environ.get("JADUGAR_TEST_PGBOUNCER")
    or shutil.which("pgbouncer")
    or "/usr/sbin/pgbouncer"  # Debian's package puts it outside a user's PATH
)
PREFERRED_PORT = 6432
START_TIMEOUT = 10.0

# The [pgbouncer] section of the fixture's pgbouncer.ini; {port} and {auth_file} filled in.
SETTINGS: dict[str, str] = {
    "listen_addr": "127.0.0.1",
    "listen_port": "{port}",
    "unix_socket_dir": "",  # no socket file in /tmp to collide with another instance
    "auth_type": "trust",
    "auth_file": "{auth_file}",
    "auth_user": "postgres",  # other roles: their pg_shadow row, by auth_query, as postgres
    "pool_mode": "transaction",
    "max_client_conn": "200",
    "default_pool_size": "5",
    "min_pool_size": "0",
    "reserve_pool_size": "0",
    "ignore_startup_parameters": "extra_float_digits",
    "query_wait_timeout": "30",  # a client waiting for a server connection gives up
    "server_login_retry": "1",
    "admin_users": "postgres",
    "log_connections": "0",
    "log_disconnections": "0",
}
# users PgBouncer knows without asking the server (auth_type trust checks the name only)
USERS = ("postgres", "root")


@dataclass
class PgBouncer:
    """A running PgBouncer: its folder, port, settings and process."""

    root: Path
    port: int
    settings: dict[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        return self.root / "pgbouncer.log"

    @property
    def ini(self) -> Path:
        return self.root / "pgbouncer.ini"

    def url(self, database: str = "test", user: str = "postgres", **query: str) -> str:
        """A URL through the bouncer; ``statement_cache=false`` unless ``query`` says."""
        options = {"statement_cache": "false", **query}
        tail = "&".join(f"{key}={value}" for key, value in options.items())
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}?{tail}"

    def show(self, what: str) -> list[dict[str, str]]:
        """``SHOW <what>`` on the admin console (``pools``, ``clients``...), as text rows."""
        psql = [str(PG_BIN / "psql"), "-X", "-q", "-A", "-F", "\t", "-P", "footer=off"]
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "pgbouncer"]
        out = run([*psql, *where, "-c", f"SHOW {what}"], "psql pgbouncer", as_postgres=False)
        lines = out.splitlines()
        header = lines[0].split("\t") if lines else []
        return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]

    def stop(self) -> None:
        """Immediate shutdown (SIGTERM: clients are cut), then the folder is removed."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


def settings(port: int, auth_file: Path, **overrides: str | int) -> dict[str, str]:
    """``SETTINGS`` for this instance, ``overrides`` replacing entries."""
    values = {key: value.format(port=port, auth_file=auth_file) for key, value in SETTINGS.items()}
    values.update({key: str(value) for key, value in overrides.items()})
    return values


def config_text(values: dict[str, str]) -> str:
    """The pgbouncer.ini: ``[databases] test`` is the shared server's ``test`` database."""
    host, server_port = SERVERS["postgres"]
    lines = [
        "[databases]",
        f"test = host={host} port={server_port} dbname=test",
        "",
        "[pgbouncer]",
        *(f"{key} = {value}" for key, value in values.items()),
    ]
    return "\n".join(lines) + "\n"


def _listening(log: Path, port: int) -> bool:
    """Whether PgBouncer says it listens. (Its log, not a test connection: a probe would
    count as a client for a moment, and a test of ``max_client_conn=1`` would meet it.)"""
    return f"listening on 127.0.0.1:{port}" in log.read_text(errors="replace")


def start_pgbouncer(**overrides: str | int) -> PgBouncer:
    """A PgBouncer in front of the test server, listening; ``overrides``
    replace ``SETTINGS`` entries (``max_client_conn=1``). Raises ``ServerUnavailable``
    with the reason; on failure nothing is left behind."""
    if not BINARY.is_file():
        raise ServerUnavailable(
            f"{BINARY} not found: install pgbouncer (make setup does, with apt) or set "
            "JADUGAR_TEST_PGBOUNCER"
        )
    root = Path(tempfile.mkdtemp(prefix="jadugar-pgbouncer-"))
    root.chmod(0o755)  # as root, pgbouncer drops to postgres: it must still read its files
    port = pick_port(PREFERRED_PORT, taken=SERVERS["postgres"][1])
    auth_file = root / "userlist.txt"
    auth_file.write_text("".join(f'"{user}" ""\n' for user in USERS))
    bouncer = PgBouncer(root, port, settings(port, auth_file, **overrides))
    bouncer.ini.write_text(config_text(bouncer.settings))
    as_root = ["-u", "postgres"] if os.geteuid() == 0 else []
    try:
        with bouncer.log.open("wb") as log:
            bouncer.process = subprocess.Popen(
                [str(BINARY), *as_root, str(bouncer.ini)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is pytest's alone
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(bouncer.log, port):
            if bouncer.process.poll() is not None:
                raise ServerUnavailable(
                    f"pgbouncer exited {bouncer.process.returncode} on start:\n"
                    f"{log_tail(bouncer.log)}"
                )
            if time.monotonic() > deadline:
                raise ServerUnavailable(
                    f"pgbouncer did not listen on 127.0.0.1:{port} within {START_TIMEOUT:g} s:"
                    f"\n{log_tail(bouncer.log)}"
                )
            time.sleep(0.02)
    except BaseException:
        bouncer.stop()
        raise
    return bouncer


def session_pgbouncer() -> Iterator[PgBouncer]:
    """The body of the session-scoped ``pgbouncer`` fixture."""
    try:
        bouncer = start_pgbouncer()
    except ServerUnavailable as exc:
        skip_unavailable(f"PgBouncer unavailable: {exc}", required="make setup installs pgbouncer")
    try:
        yield bouncer
    finally:
        bouncer.stop()
