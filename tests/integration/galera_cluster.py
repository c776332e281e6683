"""A throwaway three-node MariaDB Galera cluster on loopback ports (3311-3313 when free).

Each node is a ``mariadbd`` of its own with its own data folder under a temporary directory
(as root, the servers run as the ``mysql`` user, which owns the folders: the rsync daemon of
an SST, started by the joining server, would otherwise run as ``nobody`` and could not write
a root-owned folder), its own client port, Galera group port (gmcast), IST port and
SST port. ``mariadb-install-db`` makes node 1's folder; node 1 bootstraps the cluster
(``--wsrep-new-cluster``); nodes 2 and 3 start with empty folders and receive a full state
transfer (SST, ``wsrep_sst_method=rsync``) from it. The fixture returns once every node
reports ``wsrep_cluster_size=3`` and ``wsrep_local_state_comment=Synced``.

The group timeouts are shortened (``evs.suspect_timeout=PT2S`` …) so that a node killed
with SIGKILL leaves the cluster in about two seconds instead of the default five to
fifteen: the tests of a dead node stay short. ``kill(n)`` SIGKILLs a node; ``restart(n)``
first reads the position its InnoDB last committed (``mariadbd --wsrep-recover``, as the
packaged service's ``galera_recovery`` does) and starts it on the same folder from there:
it rejoins by incremental state transfer (IST, from the survivors' gcache) or, when the
gcache no longer covers the gap, by SST. Without the recovered position a SIGKILLed node
does not know where it stopped and asks for a full SST, whose donor pauses and flushes its
tables (once in eight runs here the donor then stalled its appliers for 50 s).

The ``galera_cluster`` fixture (tests/integration/test_galera.py) starts the cluster once
per test session and stops and removes it at the end, also when tests fail. When it
cannot start (no galera library, no ``mariadbd``, no ``rsync``), its tests skip with the
reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
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
    free_ports,
    log_tail,
    mariadb_sql,
    run,
    skip_unavailable,
)

MARIADBD = Path(os.environ.get("JADUGAR_TEST_MARIADBD", "/usr/sbin/mariadbd"))
GALERA = Path(os.environ.get("JADUGAR_TEST_GALERA", "/usr/lib/galera/libgalera_smm.so"))
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
PREFERRED_PORTS = (3311, 3312, 3313)
RUN_AS = "mysql" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
CLUSTER_NAME = "jadugar_test"
START_TIMEOUT = 60.0  # seconds for one node to start and reach Synced (SST included)

# Galera provider options: failure detection in ~2 s instead of 5-15 s, a small gcache
# (IST covers a short outage), and the group/IST ports of the node ({gmcast}, {ist}).
PROVIDER_OPTIONS = (
    "base_host=127.0.0.1;base_port={gmcast};ist.recv_addr=127.0.0.1:{ist};"
    "gcache.size=64M;gcs.fc_limit=64;"
    "evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;"
    "evs.suspect_timeout=PT2S;evs.inactive_timeout=PT3S;evs.install_timeout=PT3S;"
    "pc.wait_prim_timeout=PT10S"
)


@dataclass
class GaleraNode:
    """One node: ``index`` 1-3, its folder and its ports."""

    index: int
    folder: Path
    port: int  # clients
    gmcast: int  # group communication
    ist: int  # incremental state transfer receiver
    sst: int  # full state transfer (rsync daemon) receiver
    cluster_address: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/test"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self, *, bootstrap: bool, extra: tuple[str, ...] = ()) -> list[str]:
        return [
            str(MARIADBD),
            "--no-defaults",
            f"--datadir={self.folder / 'data'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.folder / 'sock'}",
            f"--pid-file={self.folder / 'pid'}",
            f"--log-error={self.folder / self.log_name(extra)}",
            f"--user={RUN_AS}",
            "--skip-name-resolve",
            f"--server-id={self.index}",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=2",  # Galera's durability is the group's
            "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2",
            "--default-storage-engine=InnoDB",
            "--wsrep-on=ON",
            f"--wsrep-provider={GALERA}",
            f"--wsrep-cluster-name={CLUSTER_NAME}",
            f"--wsrep-cluster-address={self.cluster_address}",
            f"--wsrep-node-name=node{self.index}",
            f"--wsrep-node-address=127.0.0.1:{self.gmcast}",
            f"--wsrep-node-incoming-address=127.0.0.1:{self.port}",
            f"--wsrep-provider-options={PROVIDER_OPTIONS.format(gmcast=self.gmcast, ist=self.ist)}",
            "--wsrep-sst-method=rsync",
            f"--wsrep-sst-receive-address=127.0.0.1:{self.sst}",
            "--wsrep-slave-threads=2",
            *(["--wsrep-new-cluster"] if bootstrap else []),
            *extra,
        ]

    @staticmethod
    def log_name(extra: tuple[str, ...]) -> str:
        return "recover.log" if "--wsrep-recover" in extra else "error.log"

    def recovered_position(self) -> str | None:
        """``uuid:seqno`` the node's InnoDB last committed, read by ``mariadbd
        --wsrep-recover`` (what the packaged service's ``galera_recovery`` does before a
        start); ``None`` when it finds none."""
        log = self.folder / "recover.log"
        log.unlink(missing_ok=True)
        subprocess.run(
            self.command(bootstrap=False, extra=("--wsrep-recover",)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        text = log.read_text(errors="replace") if log.is_file() else ""
        found = re.search(r"WSREP: Recovered position: ([0-9a-f-]{36}:\d+)", text)
        return found.group(1) if found else None

    def start(self, *, bootstrap: bool = False, position: str | None = None) -> None:
        """Start the node (returns at once: ``wait_synced`` waits for it). ``position``:
        the ``uuid:seqno`` it holds, so that it asks for an IST from there."""
        if self.running:
            return
        extra = (f"--wsrep-start-position={position}",) if position else ()
        self.process = subprocess.Popen(
            self.command(bootstrap=bootstrap, extra=extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def status(self) -> dict[str, str]:
        """The node's wsrep status variables (``wsrep_cluster_size``, …)."""
        text = mariadb_sql(self.port, "SHOW GLOBAL STATUS LIKE 'wsrep%'", attempts=1)
        pairs = (line.split("\t", 1) for line in text.splitlines() if "\t" in line)
        return {key.lower(): value for key, value in pairs}

    def wait_synced(self, size: int, timeout: float = START_TIMEOUT) -> None:
        """Until the node is Synced in a primary component of ``size`` nodes."""
        deadline = time.monotonic() + timeout
        last = "not answering"
        while True:
            if self.process is None or self.process.poll() is not None:
                raise ServerUnavailable(
                    f"galera node {self.index} (port {self.port}) exited:\n"
                    + log_tail(self.folder / "error.log")
                )
            with contextlib.suppress(ServerUnavailable):
                found = self.status()
                last = (
                    f"cluster_size={found.get('wsrep_cluster_size')} "
                    f"state={found.get('wsrep_local_state_comment')} "
                    f"ready={found.get('wsrep_ready')}"
                )
                if (
                    found.get("wsrep_cluster_size") == str(size)
                    and found.get("wsrep_local_state_comment") == "Synced"
                    and found.get("wsrep_ready") == "ON"
                ):
                    return
            if time.monotonic() > deadline:
                raise ServerUnavailable(
                    f"galera node {self.index} (port {self.port}) not Synced in a cluster of "
                    f"{size} after {timeout:g}s ({last}):\n" + log_tail(self.folder / "error.log")
                )
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the group."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class GaleraCluster:
    """The three running nodes. ``kill``/``restart`` take a node number (1-3)."""

    root: Path
    nodes: list[GaleraNode]
    started_in: float = 0.0  # seconds the cluster took to start

    def node(self, index: int) -> GaleraNode:
        return self.nodes[index - 1]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def url(self, *, host_selection: str | None = None, database: str = "test") -> str:
        """One URL naming every node: ``mysql://root@127.0.0.1:3311,…:3313/test``."""
        hosts = ",".join(node.address for node in self.nodes)
        query = f"?host_selection={host_selection}" if host_selection else ""
        return f"mysql://root@{hosts}/{database}{query}"

    def sql(self, index: int, sql: str) -> str:
        """One statement on node ``index`` through the ``mariadb`` client."""
        return mariadb_sql(self.node(index).port, sql)

    def kill(self, index: int) -> None:
        """SIGKILL node ``index``; returns once the others see a cluster without it."""
        self.node(index).kill()
        for other in self.nodes:
            if other.running:
                other.wait_synced(len([n for n in self.nodes if n.running]), timeout=30)

    def restart(self, index: int, *, timeout: float = START_TIMEOUT) -> float:
        """Start a killed node again; returns the seconds until every node is Synced in a
        cluster of all running nodes (the rejoin: IST, or SST when the gcache lacks it)."""
        started = time.monotonic()
        node = self.node(index)
        node.start(position=node.recovered_position())
        size = len([n for n in self.nodes if n.running])
        node.wait_synced(size, timeout)
        for other in self.nodes:
            if other.running:
                other.wait_synced(size, timeout)
        return time.monotonic() - started

    def transfer_kind(self, index: int) -> str:
        """How node ``index`` last rejoined, from its error log: ``IST`` (the write sets it
        missed, from a donor's gcache), ``SST`` (a full copy: the donor pauses and flushes
        its tables meanwhile) or ``?``. The SST script logs which it did, for both."""
        text = (self.node(index).folder / "error.log").read_text(errors="replace")
        tail = text[text.rfind("Starting MariaDB") :] if "Starting MariaDB" in text else text
        found = re.findall(r"rsync (SST|IST) completed on joiner", tail)
        return found[-1] if found else "?"

    def close(self) -> None:
        for node in reversed(self.nodes):
            node.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def require_galera() -> None:
    """``ServerUnavailable`` naming what is missing to run a Galera cluster here."""
    for binary in (GALERA, MARIADBD, Path(INSTALL_DB), Path(MARIADB_CLIENT)):
        if not binary.is_file():
            hint = " (set JADUGAR_TEST_GALERA)" if binary == GALERA else ""
            raise ServerUnavailable(f"{binary} not found{hint}")
    for tool in ("rsync", "wsrep_sst_rsync"):
        if shutil.which(tool) is None:
            raise ServerUnavailable(f"{tool} not found: rsync SST needs it")
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        raise ServerUnavailable(f"no {RUN_AS!r} user to run the Galera nodes as") from None


def start_galera_cluster() -> GaleraCluster:
    require_galera()
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="jadugar-galera-"))
    client_ports = free_ports(3, PREFERRED_PORTS)
    others = [p for p in free_ports(12) if p not in client_ports]
    if len(others) < 9:
        others = [p for p in free_ports(20) if p not in client_ports]
    nodes = [
        GaleraNode(
            i + 1,
            root / f"node{i + 1}",
            client_ports[i],
            gmcast=others[3 * i],
            ist=others[3 * i + 1],
            sst=others[3 * i + 2],
        )
        for i in range(3)
    ]
    address = "gcomm://" + ",".join(f"127.0.0.1:{n.gmcast}" for n in nodes)
    root.chmod(0o755)  # the servers' user must reach its folder
    for node in nodes:
        node.cluster_address = address
        node.folder.mkdir()
        (node.folder / "data").mkdir()
        if os.geteuid() == 0:
            for path in (node.folder, node.folder / "data"):
                shutil.chown(path, RUN_AS, RUN_AS)
    cluster = GaleraCluster(root, nodes)
    try:
        first = nodes[0]
        run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={first.folder / 'data'}",
                f"--user={RUN_AS}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            "mariadb-install-db",
            as_postgres=False,
        )
        first.start(bootstrap=True)
        first.wait_synced(1)
        mariadb_sql(first.port, "CREATE DATABASE IF NOT EXISTS test")
        for node in nodes[1:]:  # one SST at a time: rsync SST blocks its donor
            node.start()
            node.wait_synced(node.index)
        for node in nodes:
            node.wait_synced(3)
        cluster.started_in = time.monotonic() - started
        return cluster
    except BaseException:
        cluster.close()
        raise


def session_galera_cluster() -> Iterator[GaleraCluster]:
    """The body of the session-scoped ``galera_cluster`` fixture."""
    try:
        cluster = start_galera_cluster()
    except (ServerUnavailable, OSError, subprocess.SubprocessError) as exc:
        skip_unavailable(
            f"throwaway MariaDB Galera cluster unavailable: {exc}",
            required="a Galera cluster is required",
        )
    try:
        yield cluster
    finally:
        cluster.close()
