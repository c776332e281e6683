"""The pure rules behind replica routing: replication positions, consistency levels, and
which raw SQL may run on a replica (runtime/replicas)."""

from __future__ import annotations

import pytest

from jadugar.replicas import CONSISTENCY_LEVELS, ReadOptions
from jadugar.replicas.consistency import is_read_statement
from jadugar.replicas.positions import covers, later, parse_gtid, parse_lsn


def test_postgres_lsns_compare_as_numbers() -> None:
    assert parse_lsn("0/8015FA0") == ((0, 0x8015FA0),)
    assert parse_lsn("1/0") == ((0, 1 << 32),)
    assert parse_lsn(None) is None
    written = parse_lsn("0/8015F38")
    assert written is not None
    assert covers(parse_lsn("0/8015FA0"), written)
    assert not covers(parse_lsn("0/8015DA0"), written)  # replayed up to before the write
    assert covers(parse_lsn("1/0"), parse_lsn("0/FFFFFFFF") or ())
    assert not covers(None, written)  # a replica whose position is unknown


def test_mariadb_gtids_compare_per_domain() -> None:
    assert parse_gtid("0-1-100,1-2-5") == ((0, 100), (1, 5))
    assert parse_gtid("") == ()
    want = parse_gtid("0-1-100") or ()
    assert covers(parse_gtid("0-2-100,1-1-3"), want)  # the server id does not matter
    assert not covers(parse_gtid("0-1-99"), want)
    assert not covers(parse_gtid("1-1-500"), want)  # never saw domain 0
    assert covers(parse_gtid(""), ())  # nothing written (no binary log): nothing to wait for
    assert later(parse_gtid("0-1-5"), parse_gtid("0-1-3,1-1-2")) == ((0, 5), (1, 2))


def test_consistency_levels_and_per_query_options() -> None:
    assert CONSISTENCY_LEVELS == ("strong", "eventual", "read_your_writes", "bounded_staleness")
    plain = ReadOptions()
    assert plain.level("read_your_writes") == "read_your_writes"
    assert plain.merged(False, None, None).level("eventual") == "strong"
    assert plain.merged(True, None, None).level("strong") == "eventual"
    assert plain.merged(None, None, 2).level("eventual") == "bounded_staleness"
    both = plain.merged(None, "eventual", None).merged(None, None, 5.0)
    assert both.level("strong") == "eventual" and both.max_lag == 5.0
    with pytest.raises(ValueError, match="read_your_writes"):
        plain.merged(None, "always", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        plain.merged("yes", None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("SELECT 1", True),
        ("  (select * from users) union (select * from admins)", True),
        ("SHOW TABLES", True),
        ("EXPLAIN SELECT 1", True),
        ("INSERT INTO t VALUES (1) RETURNING id", False),
        ("UPDATE t SET a = 1", False),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", False),
        ("SELECT * FROM t FOR UPDATE", False),
        ("SELECT * INTO copy FROM t", False),
        ("", False),
    ],
)
def test_only_reading_raw_sql_may_go_to_a_replica(sql: str, reads: bool) -> None:
    assert is_read_statement(sql) is reads
