"""How a read-only manager classifies raw SQL, and the options of access control."""

from __future__ import annotations

import pytest

from jadugar import ConfigurationError, DatabaseManager, DatabaseOptions, ReadOnlyError
from jadugar.read_only import ensure_writable, raw_write, refused

READS = [
    "SELECT * FROM users WHERE id = $1",
    "  (SELECT 1) UNION (SELECT 2)",
    "select updated_at, deleted from users",  # words containing write words are fine
    "SELECT 'delete from users' AS text, \"update\" FROM t",  # inside literals/identifiers
    "SELECT $$drop table x$$",
    "SELECT 1 -- drop table users\n",
    "SELECT /* insert */ 1",
    "WITH recent AS (SELECT * FROM posts) SELECT count(*) FROM recent",
    "VALUES (1), (2)",
    "EXPLAIN SELECT * FROM users",
    "SHOW TABLES",
    "DESCRIBE users",
    "PRAGMA table_info(users)",
    "SELECT set_config('app.tenant_id', '7', true)",
]

WRITES = [
    ("INSERT INTO users (name) VALUES ('x')", ("insert", "users")),
    ("insert ignore into users (name) values ('x')", ("insert", "users")),
    ("UPDATE users SET name = 'x'", ("update", "users")),
    ("DELETE FROM public.users", ("delete", "public.users")),
    ("REPLACE INTO users VALUES (1)", ("replace into", "users")),
    ("TRUNCATE TABLE users", ("truncate", "users")),
    ("CREATE TABLE IF NOT EXISTS t (id int)", ("create", "t")),
    ("DROP INDEX users_email", ("drop", "users_email")),
    ("ALTER TABLE users ADD COLUMN x int", ("alter", "users")),
    ("WITH gone AS (DELETE FROM users RETURNING id) SELECT * FROM gone", ("delete", "users")),
    ("SELECT * INTO backup FROM users", ("into", None)),
    ("SELECT * FROM users FOR UPDATE", ("update", None)),
    ("SELECT * FROM users FOR SHARE", ("for share", None)),
    ("SELECT * FROM users FOR KEY SHARE", ("for key share", None)),
    ("SELECT * FROM users LOCK IN SHARE MODE", ("lock", None)),
    ("SELECT nextval('users_id_seq')", ("nextval", None)),
    ("SELECT 1; DROP TABLE users", ("drop", "users")),
    ("EXPLAIN ANALYZE DELETE FROM users", ("analyze", "users")),
    ("PRAGMA query_only = 0", ("pragma", None)),
    ("VACUUM", ("vacuum", None)),
    ("SET search_path TO x", ("set", None)),
    ("BEGIN", ("begin", None)),
    ("CALL do_things()", ("call", None)),
    ("GRANT SELECT ON users TO app", ("grant", None)),
    ("", ("statement", None)),
]


@pytest.mark.parametrize("sql", READS)
def test_raw_reads_pass(sql: str) -> None:
    assert raw_write(sql) is None


@pytest.mark.parametrize(("sql", "expected"), WRITES)
def test_raw_writes_are_named(sql: str, expected: tuple[str, str | None]) -> None:
    assert raw_write(sql) == expected


def test_ensure_writable_names_the_operation_and_the_table() -> None:
    ensure_writable(DatabaseManager(url="sqlite:///:memory:"), "insert", "users")
    manager = DatabaseManager(url="postgresql://app:secret@db/app", read_only=True)
    with pytest.raises(ReadOnlyError) as caught:
        ensure_writable(manager, "insert", "users")
    error = caught.value
    assert (error.operation, error.table) == ("insert", "users")
    assert str(error).startswith("insert on 'users' refused: the database manager ")
    assert "postgresql://app:***@db/app is read-only" in str(error)
    assert "secret" not in str(error)
    replica = refused(
        manager, "update", "users", where="replica r1", hint="writes go to the primary"
    )
    assert (
        str(replica)
        == "update on 'users' refused: replica r1 is read-only; writes go to the primary"
    )


def test_read_only_from_the_environment() -> None:
    assert DatabaseOptions.from_env({"JADUGAR_READ_ONLY": "1"}, url="sqlite://").read_only
    assert not DatabaseOptions(url="sqlite://").read_only


def test_session_variables_are_postgresql_only() -> None:
    def settings() -> dict[str, str]:
        return {"app.tenant_id": "7"}

    assert DatabaseOptions(url="postgresql://u@h/db", session_variables=settings)
    for url in ("sqlite:///x.db", "mysql://root@127.0.0.1/test"):
        with pytest.raises(ConfigurationError, match="session_variables") as caught:
            DatabaseOptions(url=url, session_variables=settings)
        assert caught.value.field == "session_variables"
