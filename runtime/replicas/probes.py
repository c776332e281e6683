"""Per-dialect questions to a server: its replication position and its replica lag.

A server given as a replica that is not replicating (a primary, or the same server twice,
handy for tests) answers with its own position and a lag of 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dialects.base import DriverConnection
from ..errors import ConfigurationError
from .positions import Position, parse_gtid, parse_lsn

PROBE_TIMEOUT = 5.0  # seconds one probe statement may take


@dataclass(frozen=True, slots=True)
class Probe:
    """What one look at a replica found. ``lag`` is ``None`` when it cannot be told
    (replication stopped): such a replica is kept out of rotation."""

    position: Position | None
    lag: float | None


# insert, not write, position: past the commit record even under synchronous_commit=off
_PG_PRIMARY = "SELECT pg_current_wal_insert_lsn()::text AS position"
_PG_REPLICA_POSITION = (
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END)::text AS position"
)
# behind only while received WAL waits to be replayed: then as old as the last replayed
# transaction (NULL, unknown, when none was replayed since the standby started)
_PG_REPLICA = (
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END)::text AS position,"
    " (CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() IS NULL"
    " OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
    " ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
    " END)::float8 AS lag"
)
_MY_PRIMARY = "SELECT @@gtid_binlog_pos AS position"
_MY_SESSION_WRITE = "SELECT @@last_gtid AS position"  # this connection's last transaction
_MY_REPLICA_POSITION = "SELECT @@gtid_current_pos AS position"


def _check(dialect: str) -> None:
    if dialect not in ("postgres", "mysql"):
        raise ConfigurationError(
            f"replicas: {dialect} has no read replicas here (PostgreSQL and MariaDB only)",
            field="replicas",
        )


async def primary_position(dialect: str, conn: DriverConnection) -> Position:
    """The primary's position now: at or past every write committed before."""
    _check(dialect)
    if dialect == "postgres":
        rows = await conn.fetch(_PG_PRIMARY, (), PROBE_TIMEOUT)
        return parse_lsn(_text(rows)) or ()
    rows = await conn.fetch(_MY_PRIMARY, (), PROBE_TIMEOUT)
    return parse_gtid(_text(rows)) or ()


async def written_position(dialect: str, conn: DriverConnection) -> Position:
    """Right after a commit on ``conn`` (a primary connection): a position covering it."""
    _check(dialect)
    if dialect == "postgres":
        return await primary_position(dialect, conn)
    return parse_gtid(_text(await conn.fetch(_MY_SESSION_WRITE, (), PROBE_TIMEOUT))) or ()


async def replica_position(dialect: str, conn: DriverConnection) -> Position | None:
    """How far a replica has replayed."""
    _check(dialect)
    if dialect == "postgres":
        return parse_lsn(_text(await conn.fetch(_PG_REPLICA_POSITION, (), PROBE_TIMEOUT)))
    return parse_gtid(_text(await conn.fetch(_MY_REPLICA_POSITION, (), PROBE_TIMEOUT)))


async def probe_replica(dialect: str, conn: DriverConnection) -> Probe:
    """A replica's position and lag in seconds."""
    _check(dialect)
    if dialect == "postgres":
        rows = await conn.fetch(_PG_REPLICA, (), PROBE_TIMEOUT)
        lag = rows[0]["lag"] if rows else None
        return Probe(parse_lsn(_text(rows)), None if lag is None else max(0.0, float(lag)))
    position = parse_gtid(_text(await conn.fetch(_MY_REPLICA_POSITION, (), PROBE_TIMEOUT)))
    status = await conn.fetch("SHOW SLAVE STATUS", (), PROBE_TIMEOUT)
    if not status:  # not replicating from anywhere
        return Probe(position, 0.0)
    return Probe(position, _seconds(status[0].get("Seconds_Behind_Master")))


def _text(rows: list[dict[str, Any]]) -> str | None:
    if not rows:
        return None
    value = rows[0]["position"]
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    return None if value is None else str(value)


def _seconds(value: object) -> float | None:
    if value is None or value == "":
        return None
    return float(value)  # type: ignore[arg-type]
