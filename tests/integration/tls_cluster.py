"""A throwaway PostgreSQL cluster serving TLS with a self-signed certificate.

The shared server on 5432 is never reconfigured: this module runs ``initdb`` into a fresh
folder under /tmp, writes a self-signed certificate for ``CN=localhost`` (SAN
``DNS:localhost, IP:127.0.0.1``) and starts the cluster on its own port with ``ssl=on``.
PostgreSQL refuses to run as root, so as root every PostgreSQL binary runs as the
``postgres`` user (``runuser -u postgres --``) and the folder is handed to that user.

The cluster listens on 127.0.0.1 and, where the loopback allows it, 127.0.0.2: an address
that reaches the same server but is not in the certificate (a hostname mismatch).
``pg_hba.conf`` trusts every loopback client except the role ``jadugar_canary``, which must
give its password (SCRAM), so password handling can be tested against a real check.

Tests use a ``tls_cluster`` fixture built on ``session_cluster()``: started once per session, stopped
(``pg_ctl stop -m immediate``) and removed at the end, also when tests fail. When it
cannot start, its tests skip with the reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

import shlex
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .local_servers import (
    PG_BIN,
    ServerUnavailable,
    hand_to_postgres,
    pg_ctl_start,
    pick_port,
    remove_cluster,
    require_postgres_binaries,
    run,
    skip_unavailable,
)

PREFERRED_PORT = 5439
CANARY_ROLE = "jadugar_canary"
OTHER_ADDRESS = "127.0.0.2"  # same server, not in the certificate

PG_HBA = f"""\
# written by tests/integration/tls_cluster.py
local all all                  trust
host  all {CANARY_ROLE} 127.0.0.0/8 scram-sha-256
host  all all           127.0.0.0/8 trust
host  all all           ::1/128     trust
"""


@dataclass(frozen=True)
class TlsCluster:
    root: Path  # owned by postgres; removed at the end
    port: int
    ca_file: Path  # the self-signed server certificate, usable as the trusted CA
    other_address: str | None  # reaches the server, absent from the certificate's SAN
    other_name: str | None  # a host name resolving to 127.0.0.1, absent from the SAN

    def url(
        self,
        host: str = "127.0.0.1",
        *,
        user: str = "postgres",
        password: str | None = None,
        database: str = "postgres",
        query: str = "",
    ) -> str:
        """A postgresql:// URL for this cluster; the password is percent-encoded."""
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        suffix = f"?{query}" if query else ""
        return f"postgresql://{auth}@{host}:{self.port}/{database}{suffix}"

    def psql(self, sql: str) -> None:
        """Run SQL as the superuser over the cluster's Unix socket."""
        psql = [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        run(
            [*psql, "-h", str(self.root), "-p", str(self.port), "-d", "postgres", "-c", sql], "psql"
        )


def _address_usable(address: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


def _name_outside_san() -> str | None:
    """A host name other than localhost that resolves to 127.0.0.1 (e.g. the machine's)."""
    for name in (socket.gethostname(),):
        if not name or name.lower() in ("localhost", "localhost.localdomain"):
            continue
        try:
            if socket.gethostbyname(name) == "127.0.0.1":
                return name
        except OSError:
            continue
    return None


def _make_certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        raise ServerUnavailable("the openssl command is not installed")
    cert, key = folder / "server.crt", folder / "server.key"
    run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            *("-addext", "basicConstraints=critical,CA:TRUE"),
            *("-addext", "keyUsage=critical,digitalSignature,keyCertSign"),
            *("-addext", "extendedKeyUsage=serverAuth"),
        ],
        "openssl req",
        as_postgres=False,
    )
    key.chmod(0o600)
    cert.chmod(0o644)
    return cert, key


def start_cluster() -> TlsCluster:
    """initdb + certificate + pg_ctl start; raises ServerUnavailable with the reason.
    On failure everything it made is removed again."""
    require_postgres_binaries("initdb", "pg_ctl", "psql")
    root = Path(tempfile.mkdtemp(prefix="jadugar-tls-"))
    started = False
    try:
        data = root / "data"
        cert, key = _make_certificate(root)
        hand_to_postgres(root, cert, key)
        run(
            [
                *(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                *("--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"),
            ],
            "initdb",
        )
        (data / "pg_hba.conf").write_text(PG_HBA)  # root writes; postgres keeps ownership
        port = pick_port(PREFERRED_PORT)
        other_address = OTHER_ADDRESS if _address_usable(OTHER_ADDRESS) else None
        listen = ",".join(a for a in ("127.0.0.1", other_address) if a)
        settings = {
            "listen_addresses": listen,
            "ssl": "on",
            "ssl_cert_file": str(cert),
            "ssl_key_file": str(key),
            "fsync": "off",
            "max_connections": "30",
        }
        options = f"-p {port} -k {shlex.quote(str(root))} " + " ".join(
            f"-c {shlex.quote(f'{name}={value}')}" for name, value in settings.items()
        )
        pg_ctl_start(data, root / "postgres.log", "-o", options, "-w", "-t", "30")
        started = True
        cluster = TlsCluster(root, port, cert, other_address, _name_outside_san())
        # the role whose password is checked (pg_hba.conf: scram-sha-256)
        cluster.psql(f"CREATE ROLE {CANARY_ROLE} LOGIN")
        return cluster
    except BaseException:
        remove_cluster(root, running=started)
        raise


def stop_cluster(cluster: TlsCluster) -> None:
    remove_cluster(cluster.root)


# One cluster per test session, shared by every module that imports the fixture (each
# module importing it gets its own FixtureDef, hence the reference count).
_lock = threading.Lock()
_shared: TlsCluster | ServerUnavailable | None = None
_users = 0


def _acquire() -> TlsCluster:
    global _shared, _users
    with _lock:
        if _shared is None:
            try:
                _shared = start_cluster()
            except ServerUnavailable as exc:
                _shared = exc
        _users += 1
        shared = _shared
    if isinstance(shared, ServerUnavailable):
        skip_unavailable(f"throwaway TLS PostgreSQL cluster unavailable: {shared}")
    return shared


def _release() -> None:
    global _shared, _users
    with _lock:
        _users -= 1
        if _users > 0 or not isinstance(_shared, TlsCluster):
            return  # a failure stays cached: no second attempt in this session
        shared, _shared = _shared, None
    if isinstance(shared, TlsCluster):
        stop_cluster(shared)


def session_cluster() -> Iterator[TlsCluster]:
    """The body of a session-scoped ``tls_cluster`` fixture: each test module defines

    @pytest.fixture(scope="session")
    def tls_cluster() -> Iterator[TlsCluster]:
        yield from session_cluster()
    """
    try:
        cluster = _acquire()
    except BaseException:
        _release()
        raise
    try:
        yield cluster
    finally:
        _release()
