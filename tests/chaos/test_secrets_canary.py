"""Canary secrets never show on any channel (SPEC 1, 11; field encryption).

A canary password (URL-special characters, percent-encoded in the URL; PostgreSQL's trust
auth accepts it, MariaDB's root, whose password is empty, refuses it) and canary
encryption keys (two data keys, the blind index key and a wrong key, each 32 bytes that
start with a marker) go through one manager per engine: its options, pool and
connections, a migration, encrypted writes and reads, a blind-index lookup, a key
rotation, failing queries, transactions and migrations, decrypting with the wrong key or
without the key, connecting with a refused password, misconfigured keys, and
``health_check()``. Every text a user or an operator could see is searched:

- ``repr`` / ``str`` of the manager, options (and their dumps), connection parameters, key
  ring, pool, pool status and metrics, a driver connection, a transaction and a model;
- ``str``, ``repr`` and the formatted traceback (chained causes) of every error raised;
- every log record of every logger at DEBUG (formatted, and the record's attributes);
- every event payload (all events of ``jadugar.events.EVENTS``), errors in them included;
- ``health_check()`` as JSON and ``repr``, healthy and not; warnings raised meanwhile.

The canaries are looked for as given, percent-encoded (``quote``, ``quote_plus``), as
base64 (standard and URL-safe, at each of the three byte alignments, so a secret inside a
longer encoded string is found too) and hex of their bytes; for a key also its marker (what
``repr(bytes)`` of it shows) and both ends of its base64 text. ``tests/integration/
test_secrets.py`` covers URL passwords through TLS, SCRAM, MariaDB users and the CLI; this
adds the keys and the figure: channels, texts and characters scanned, leaks (0).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Never
from urllib.parse import quote, quote_plus

import pytest

from jadugar import (
    ConfigurationError,
    DatabaseConnectionError,
    DatabaseManager,
    DatabaseOptions,
    DecryptionError,
    EncryptionError,
    EncryptionOptions,
    IntegrityError,
    MigrationError,
    MigrationOptions,
    PoolOptions,
    QueryError,
    TransactionError,
)
from jadugar.encryption import rotate_keys
from jadugar.encryption.fields import ring_for
from jadugar.events import EVENTS
from jadugar.migrations import MigrationManager
from jadugar.models import ColumnMeta, Model, ModelMeta, ModelQuery

from ..engines import SERVERS, dialect_of, url
from ..integration.conftest import EngineSQL
from .figures import FigureBook

# ---- the canaries ---------------------------------------------------------------------

PASSWORD_CORE = f"cAnArYpw{secrets.token_hex(4)}"
PASSWORD = f"{PASSWORD_CORE}-/@:%#"  # URL-special characters: percent-encoded in URLs
WRONG_PASSWORD = f"{PASSWORD_CORE}-wrong/@:%"


def _canary_key(marker: bytes) -> bytes:
    return marker + os.urandom(32 - len(marker))


KEY1 = _canary_key(b"CANARYKEY1")
KEY2 = _canary_key(b"CANARYKEY2")
INDEX_KEY = _canary_key(b"CANARYBIDX")
WRONG_KEY = _canary_key(b"CANARYWRNG")  # the wrong key under the right id: a secret too
SHORT_KEY = b"CANARYSHRT" + os.urandom(10)  # 20 bytes: refused, and still a secret
KEYS = {"key1": KEY1, "key2": KEY2, "blind index key": INDEX_KEY, "wrong key": WRONG_KEY}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _base64_forms(raw: bytes) -> list[str]:
    """The base64 of ``raw`` inside any longer base64 text: at each byte alignment, only
    the groups of four characters that come from ``raw`` alone."""
    forms: list[str] = []
    for pad in range(3):
        text = b64(b"\x00" * pad + raw)
        whole = (pad + len(raw)) // 3  # complete groups
        forms.append(text[4 if pad else 0 : 4 * whole])
    return forms


def _byte_forms(label: str, raw: bytes) -> dict[str, str]:
    forms = {f"{label} hex": raw.hex(), f"{label} HEX": raw.hex().upper()}
    for n, form in enumerate(_base64_forms(raw)):
        forms[f"{label} base64@{n}"] = form
        forms[f"{label} urlsafe base64@{n}"] = form.replace("+", "-").replace("/", "_")
    return forms


def _password_forms(label: str, secret: str) -> dict[str, str]:
    return {
        f"{label}": secret,
        f"{label} quoted": quote(secret, safe=""),
        f"{label} quote()": quote(secret),
        f"{label} quote_plus": quote_plus(secret, safe=""),
        **_byte_forms(label, secret.encode()),
    }


def _key_forms(label: str, raw: bytes) -> dict[str, str]:
    text = b64(raw)
    return {
        f"{label} base64": text,
        f"{label} quoted": quote(text, safe=""),
        f"{label} marker": raw[:10].decode("ascii"),  # what repr(bytes) shows
        f"{label} head": text[:16],  # the marker and two random bytes
        f"{label} tail": text[-16:],
        **_byte_forms(label, raw),
    }


FORMS: dict[str, str] = {
    "password core": PASSWORD_CORE,  # in both passwords; found partly masked or escaped too
    **_password_forms("password", PASSWORD),
    **_password_forms("wrong password", WRONG_PASSWORD),
    **{k: v for label, raw in KEYS.items() for k, v in _key_forms(label, raw).items()},
    **_key_forms("short key", SHORT_KEY),
}
assert all(len(form) >= 10 for form in FORMS.values()), "a form too short to be telling"


# ---- the scanner ----------------------------------------------------------------------


@dataclass
class Scan:
    """Every text searched for every form of every canary."""

    forms: dict[str, str]
    channels: set[str] = field(default_factory=set)
    texts: int = 0
    characters: int = 0
    leaks: list[tuple[str, str, str]] = field(default_factory=list)  # where, form, excerpt

    def text(self, channel: str, where: str, text: str) -> None:
        self.channels.add(channel)
        self.texts += 1
        self.characters += len(text)
        for label, form in self.forms.items():
            at = text.find(form)
            if at >= 0:
                excerpt = text[max(0, at - 120) : at + len(form) + 40]
                self.leaks.append((f"{channel} / {where}", label, excerpt))

    def error(self, where: str, error: BaseException) -> None:
        self.text("errors", f"str({where})", str(error))
        self.text("errors", f"repr({where})", repr(error))
        self.text("errors", f"traceback({where})", "".join(traceback.format_exception(error)))

    def shown(self, where: str, obj: object) -> None:
        self.text("repr", f"repr({where})", repr(obj))
        self.text("repr", f"str({where})", str(obj))

    async def raises(
        self, where: str, expected: type[BaseException], run: Callable[[], Awaitable[object]]
    ) -> BaseException:
        with pytest.raises(expected) as info:
            await run()
        self.error(where, info.value)
        return info.value


def _summary(leaks: list[tuple[str, str, str]], limit: int = 25) -> list[str]:
    """One line per place that leaked: which forms, and the text around the first."""
    places: dict[str, list[tuple[str, str]]] = {}
    for where, label, excerpt in leaks:
        places.setdefault(where, []).append((label, excerpt))
    lines = [
        f"{where}: {', '.join(label for label, _ in found)} in …{found[0][1]}…"
        for where, found in places.items()
    ]
    return lines[:limit] + (
        [f"… and {len(lines) - limit} more places"] if len(lines) > limit else []
    )


# ---- a model with encrypted fields, on a table of this run's own -----------------------

TABLE = f"jcanary_{uuid.uuid4().hex[:8]}"
DDL = (
    f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, label VARCHAR(100) NOT NULL,"
    " secret TEXT NOT NULL, token TEXT NOT NULL, token_bidx VARCHAR(64) NOT NULL)"
)
CanaryColumn = Literal["id", "label", "secret", "token"]


class CanaryVault(Model):
    """Rows whose ``secret`` is sealed and whose ``token`` is sealed and searchable."""

    __jadugar__: ClassVar[ModelMeta] = ModelMeta(
        name="CanaryVault",
        table=TABLE,
        primary_key="id",
        columns=(
            ColumnMeta("id", "int", primary_key=True),
            ColumnMeta("label", "str"),
            ColumnMeta("secret", "text", encrypted=True),
            ColumnMeta("token", "str", encrypted=True, searchable=True),
        ),
    )

    id: int
    label: str
    secret: str
    token: str

    @classmethod
    def query(cls) -> CanaryVaultQuery:
        return CanaryVaultQuery(cls)


class CanaryVaultQuery(ModelQuery[CanaryVault, CanaryColumn, Never]):
    __slots__ = ()

    def filter_by(self, **values: object) -> CanaryVaultQuery:
        return self._filter(values)


def migration_file(up: list[str], down: list[str]) -> str:
    body = "\n".join(f"        await db.raw({s!r}).execute()" for s in up)
    undo = "\n".join(f"        await db.raw({s!r}).execute()" for s in down)
    return (
        "from __future__ import annotations\n\n"
        "from jadugar import QueryBuilder\n"
        "from jadugar.migrations import Migration\n\n\n"
        "class Canary(Migration):\n"
        f"    async def up(self, db: QueryBuilder) -> None:\n{body}\n\n"
        f"    async def down(self, db: QueryBuilder) -> None:\n{undo}\n"
    )


# ---- managers -------------------------------------------------------------------------


def encryption(keys: dict[str, bytes], key_id: str) -> EncryptionOptions:
    text = ",".join(f"{k}:{b64(v)}" for k, v in keys.items())
    return EncryptionOptions(keys=text, key_id=key_id, blind_index_key=b64(INDEX_KEY))


ACTIVE = encryption({"k1": KEY1, "k2": KEY2}, "k1")


def small(target: str, keys: EncryptionOptions | None = ACTIVE) -> DatabaseOptions:
    return DatabaseOptions(
        url=target,
        pool=PoolOptions(max=2),
        connect_timeout=5,
        retry_options={"attempts": 1},
        encryption=keys,
    )


def canary_url(engine: str, tmp_path: Path) -> str:
    """PostgreSQL (trust auth) with the canary password; the others as the tests reach
    them (MariaDB root has no password; SQLite has none at all)."""
    plain = url(engine, tmp_path)  # skips, or fails under CI=true, without a server
    if dialect_of(engine) == "postgres":
        host, port = SERVERS["postgres"]
        return f"postgresql://postgres:{quote(PASSWORD, safe='')}@{host}:{port}/test"
    return plain


def failing_urls(engine: str, tmp_path: Path) -> dict[str, str]:
    """Connections that fail, with a canary password wherever the engine takes one."""
    wrong = quote(WRONG_PASSWORD, safe="")
    if engine == "postgres":
        host, port = SERVERS["postgres"]
        return {
            "unknown database": f"postgresql://postgres:{wrong}@{host}:{port}/jadugar_no_db",
            "unreachable": f"postgresql://postgres:{wrong}@127.0.0.1:1/test",
        }
    if engine == "mysql":
        host, port = SERVERS["mysql"]
        return {
            "refused password": f"mysql://root:{wrong}@{host}:{port}/test",
            "unreachable": f"mysql://root:{wrong}@127.0.0.1:1/test",
        }
    return {"no such folder": f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}"}


def watch(db: DatabaseManager, seen: list[tuple[str, dict[str, Any]]]) -> DatabaseManager:
    for event in sorted(EVENTS):
        db.on(event, lambda payload, event=event: seen.append((event, payload)))
    return db


@dataclass
class Run:
    engine: str
    tmp_path: Path
    scan: Scan
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    opened: list[DatabaseManager] = field(default_factory=list)

    async def manager(self, options: DatabaseOptions) -> DatabaseManager:
        db = watch(DatabaseManager(options), self.events)
        self.scan.shown("DatabaseManager (not connected)", db)
        await db.connect()
        self.opened.append(db)
        return db


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG: the root and every one already known (and the drivers')."""
    caplog.set_level(logging.DEBUG)
    known = set(logging.Logger.manager.loggerDict)
    for name in known | {"jadugar", "asyncpg", "aiomysql", "pymysql", "aiosqlite", "asyncio"}:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
async def run(engine: str, tmp_path: Path) -> AsyncIterator[Run]:
    here = Run(engine, tmp_path, Scan(FORMS))
    try:
        yield here
    finally:
        for db in reversed(here.opened):
            await db.disconnect()
        CanaryVault.bind(None)


# ---- the steps ------------------------------------------------------------------------


def canary_migrations(run: Run, db: DatabaseManager) -> MigrationManager:
    """One migration that makes the table (and drops it going down)."""
    folder = run.tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_canary.py").write_text(migration_file([DDL], [f"DROP TABLE {TABLE}"]))
    options = MigrationOptions(directory=str(folder), table_name=f"{TABLE}_history")
    return MigrationManager(options, db, lock_timeout=30)


async def migrate_and_write(run: Run, db: DatabaseManager, migrations: MigrationManager) -> None:
    """The table by the migration; encrypted writes, reads, a lookup, an update."""
    await migrations.migrate()
    CanaryVault.bind(db)
    rows = [CanaryVault(id=n, label=f"row {n}", secret=f"s{n}", token=f"t{n}") for n in range(3)]
    for row in rows:
        await row.save()
    run.scan.shown("CanaryVault", rows[0])
    found = await CanaryVault.query().filter_by(token="t1").first()
    assert found is not None and found.secret == "s1"
    found.secret = "s1 again"
    await found.save()
    assert (await CanaryVault._find(1)).secret == "s1 again"
    async with db.transaction() as tx:
        run.scan.shown("Transaction", tx)
        await CanaryVault._create({"id": 10, "label": "in tx", "secret": "x", "token": "y"})


async def failing_statements(run: Run, db: DatabaseManager) -> None:
    scan = run.scan
    await scan.raises(
        "query error", QueryError, lambda: db.query.raw("SELECT * FROM jadugar_no_such").all()
    )
    await scan.raises(
        "duplicate key of an encrypted row",
        IntegrityError,
        lambda: CanaryVault._create({"id": 1, "label": "dup", "secret": "a", "token": "b"}),
    )

    async def fails_inside() -> None:
        async def body(tx: object) -> None:
            await CanaryVault._create({"id": 20, "label": "x", "secret": "a", "token": "c"})
            await db.query.raw("SELECT * FROM jadugar_no_such").all()

        await db.transaction(body)

    await scan.raises("query error in transaction(fn)", QueryError, fails_inside)
    assert await CanaryVault._find_or_none(20) is None  # rolled back

    async def after_the_end() -> None:
        async with db.transaction() as tx:
            pass
        await tx.raw("SELECT 1").all()

    await scan.raises("a transaction used after its end", TransactionError, after_the_end)
    await scan.raises(
        "a condition on an encrypted field",
        EncryptionError,
        lambda: CanaryVault.query().filter_by(secret="s1").get(),
    )


async def wrong_keys(run: Run, target: str, db: DatabaseManager) -> None:
    """Reading with the wrong key, without the key, moved ciphertext, no keys at all."""
    scan = run.scan
    for where, keys in (
        ("the wrong key under the right id", encryption({"k1": WRONG_KEY}, "k1")),
        ("only the other key", encryption({"k2": KEY2}, "k2")),
    ):
        CanaryVault.bind(await run.manager(small(target, keys)))
        await scan.raises(where, DecryptionError, lambda: CanaryVault._find(0))
    CanaryVault.bind(await run.manager(small(target, None)))
    await scan.raises("no keys", ConfigurationError, lambda: CanaryVault._find(0))
    CanaryVault.bind(db)
    table = db.query.table(TABLE)
    sealed = await table.where({"id": 0}).first()
    assert sealed is not None and str(sealed["secret"]).startswith("jdg1:k1:")
    await table.where({"id": 2}).update({"secret": sealed["secret"]})
    await scan.raises("a ciphertext of another row", DecryptionError, lambda: CanaryVault._find(2))
    await table.where({"id": 2}).delete()


async def rotation(run: Run, target: str) -> None:
    rotated = await run.manager(small(target, encryption({"k1": KEY1, "k2": KEY2}, "k2")))
    report = await rotate_keys(rotated, [CanaryVault], batch_size=2)
    run.scan.shown("RotationReport", report)
    CanaryVault.bind(await run.manager(small(target, encryption({"k2": KEY2}, "k2"))))
    assert (await CanaryVault._find(0)).secret == "s0"


async def failing_migration(run: Run, db: DatabaseManager) -> None:
    folder = run.tmp_path / "bad_migrations"
    folder.mkdir()
    (folder / "0001_canary.py").write_text(migration_file(["SELECT * FROM jadugar_no_such"], []))
    options = MigrationOptions(directory=str(folder), table_name=f"{TABLE}_bad_history")
    await run.scan.raises(
        "a failing migration", MigrationError, MigrationManager(options, db).migrate
    )


async def shown_while_connected(run: Run, db: DatabaseManager) -> None:
    scan = run.scan
    scan.shown("DatabaseManager", db)
    scan.shown("DatabaseOptions", db.options)
    scan.text("repr", "DatabaseOptions.model_dump()", repr(db.options.model_dump()))
    scan.text("repr", "DatabaseOptions.model_dump_json()", db.options.model_dump_json())
    assert db.options.encryption is not None
    scan.shown("EncryptionOptions", db.options.encryption)
    scan.text(
        "repr", "EncryptionOptions.model_dump_json()", db.options.encryption.model_dump_json()
    )
    scan.shown("KeyRing", ring_for(db.options.encryption))
    scan.shown("ConnectParams", db.options.connect_params())
    scan.shown("ConnectionPool", db.pool)
    scan.shown("PoolStatus", db.pool.get_status())
    scan.shown("PoolMetrics", db.pool.get_metrics())
    async with db.pool.connection() as conn:
        scan.shown("DriverConnection", conn)
    health = await db.health_check()
    assert health.healthy, health.error
    scan.text("health", "health_check() json", health.model_dump_json())
    scan.text("health", "repr(health_check())", repr(health))


async def killed_session(run: Run, target: str, db: DatabaseManager, sql: EngineSQL) -> None:
    """A server ends a pooled session: the pool's ping finds it dead, logs it, replaces it."""
    victim = await run.manager(small(target).replace(pool=PoolOptions(max=1, ping_after=0)))
    async with victim.pool.connection() as conn:
        kill = sql.kill(conn.session_id)
    if kill is None:  # an embedded engine: no server session to end
        return
    try:
        await db.query.raw(kill).execute()
    except QueryError as error:  # MariaDB's KILL of a session may report it as an error
        run.scan.error("KILL of a session", error)
    row = await victim.query.raw("SELECT 1 AS one").first()
    assert row is not None and int(row["one"]) == 1
    assert victim.pool.get_metrics().destroys >= 1


async def failing_connections(run: Run) -> None:
    for where, target in failing_urls(run.engine, run.tmp_path).items():
        db = watch(DatabaseManager(small(target)), run.events)
        run.scan.shown(f"DatabaseManager ({where})", db)
        async with db:
            await run.scan.raises(
                f"connecting: {where}",
                DatabaseConnectionError,
                db.query.raw("SELECT 1").all,
            )
            health = await db.health_check()
        assert not health.healthy
        run.scan.text("health", f"health_check() json ({where})", health.model_dump_json())
        run.scan.text("health", f"repr(health_check()) ({where})", repr(health))
        eager = watch(DatabaseManager(small(target).replace(pool=PoolOptions(min=1))), run.events)
        await run.scan.raises(
            f"connect() with min=1: {where}", DatabaseConnectionError, eager.connect
        )


def misconfigured_keys(run: Run, target: str) -> None:
    """Keys in the wrong place, mistyped ids, keys that are not keys: refused, not shown."""
    k1, k2, short = b64(KEY1), b64(KEY2), b64(SHORT_KEY)
    cases: dict[str, dict[str, Any]] = {
        "a mistyped key id": {"keys": f"k1:{k1},k2:{k2}", "key_id": "k 1"},
        "an unknown key id": {"keys": f"k1:{k1},k2:{k2}", "key_id": "k3"},
        "the key given as key_id": {"keys": f"k1:{k1}", "key_id": k2},
        "key and id swapped": {"keys": f"{k1}:k1"},
        "a key of 20 bytes": {"keys": f"k1:{short}"},
        "a key that is not base64": {"keys": f"k1:{k1[:20]}!{k1[21:]}"},
        "no key id chosen among two": {"keys": {"k1": k1, "k2": k2}},
        "a blind index key of 20 bytes": {"keys": f"k1:{k1}", "blind_index_key": short},
        "the blind index key given as key_id": {"keys": f"k1:{k1}", "key_id": b64(INDEX_KEY)},
    }
    for where, data in cases.items():
        for how, build in entry_points(target, data).items():
            with pytest.raises(ConfigurationError) as info:
                build()
            run.scan.error(f"{where} through {how}", info.value)


def entry_points(target: str, data: dict[str, Any]) -> dict[str, Callable[[], object]]:
    """The ways keys are configured: the options, the manager, the environment."""
    env = {"JADUGAR_DATABASE_URL": target, "JADUGAR_ENCRYPTION_KEYS": _as_env(data["keys"])}
    if "key_id" in data:
        env["JADUGAR_ENCRYPTION_KEY_ID"] = data["key_id"]
    if "blind_index_key" in data:
        env["JADUGAR_BLIND_INDEX_KEY"] = data["blind_index_key"]
    return {
        "EncryptionOptions": lambda: EncryptionOptions(**data),
        "DatabaseOptions": lambda: DatabaseOptions(url=target, encryption=data),
        "DatabaseManager": lambda: DatabaseManager(url=target, encryption=data),
        "from_env": lambda: DatabaseOptions.from_env(env),
    }


def _as_env(keys: str | dict[str, str]) -> str:
    return keys if isinstance(keys, str) else ",".join(f"{k}:{v}" for k, v in keys.items())


def scan_events_and_logs(run: Run, logs: pytest.LogCaptureFixture, warned: list[str]) -> None:
    scan = run.scan
    for n, (event, payload) in enumerate(run.events):
        scan.text("events", f"{event} #{n}", repr(payload))
        for value in payload.values():
            if isinstance(value, BaseException):
                scan.error(f"the error of {event} #{n}", value)
    scan.text("logs", "log text (DEBUG)", logs.text)
    for n, record in enumerate(logs.records):
        scan.text("logs", f"record #{n} ({record.name})", repr(vars(record)))
    for n, message in enumerate(warned):
        scan.text("warnings", f"warning #{n}", message)


# ---- the test -------------------------------------------------------------------------


async def test_canary_secrets_never_show(
    run: Run,
    engine_sql: EngineSQL,
    debug_logs: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
    figures: FigureBook,
) -> None:
    target = canary_url(run.engine, run.tmp_path)
    db = await run.manager(small(target))
    migrations = canary_migrations(run, db)
    try:
        await migrate_and_write(run, db, migrations)
        await failing_statements(run, db)
        await shown_while_connected(run, db)
        await wrong_keys(run, target, db)
        await rotation(run, target)
        await failing_migration(run, db)
        await killed_session(run, target, db, engine_sql)
    finally:
        CanaryVault.bind(None)
        await migrations.reset()  # the way down, through the same channels
        for table in (TABLE, f"{TABLE}_history", f"{TABLE}_bad_history"):
            await db.query.raw(f"DROP TABLE IF EXISTS {table}").execute()
    await failing_connections(run)
    misconfigured_keys(run, target)
    for manager in reversed(run.opened):
        await manager.disconnect()
    run.opened.clear()
    warned = [f"{w.category.__name__}: {w.message}" for w in recwarn.list]
    scan_events_and_logs(run, debug_logs, warned)

    scan = run.scan
    events = {event for event, _ in run.events}
    figures.record(
        "secrets canary",
        run.engine,
        channels=len(scan.channels),
        texts=scan.texts,
        characters=scan.characters,
        forms=len(scan.forms),
        leaks=len(scan.leaks),
    )
    assert not scan.leaks, f"{len(scan.leaks)} leaks:\n" + "\n".join(_summary(scan.leaks))
    assert scan.channels == {"repr", "errors", "logs", "events", "health"} | (
        {"warnings"} if warned else set()
    ), scan.channels
    expected = {"connect", "disconnect", "query", "error", "pool:acquire", "pool:release"}
    expected |= {"transaction:begin", "transaction:commit", "transaction:rollback"}
    assert expected <= events, sorted(events)


def test_the_scan_finds_a_canary_in_every_encoding() -> None:
    """The scanner itself: each canary, encoded in each way, inside longer texts."""
    raw = KEY1
    texts = {
        "repr of bytes": repr(raw),
        "hex": f"key={raw.hex()}!",
        "HEX": raw.hex().upper(),
        "percent-encoded key text": quote(b64(raw), safe=""),
        "key text cut short": f"key {b64(raw)[:20]}...",
        "password percent-encoded": f"postgresql://u:{quote(PASSWORD, safe='')}@h/d",
        "password in repr": repr({"password": PASSWORD}),
        "password base64 (basic auth)": b64(f"user:{PASSWORD}".encode()),
        "password hex": PASSWORD.encode().hex(),
    }
    for pad in range(3):  # inside a longer base64 text, at each byte alignment
        texts[f"base64 at alignment {pad}"] = b64(b"y" * pad + raw + b"tail")
        texts[f"urlsafe base64 at alignment {pad}"] = base64.urlsafe_b64encode(
            b"y" * pad + raw + b"tail"
        ).decode()
    missed = []
    for where, text in texts.items():
        scan = Scan(FORMS)
        scan.text("self-test", where, text)
        if not scan.leaks:
            missed.append(where)
    clean = Scan(FORMS)
    clean.text("self-test", "other keys", b64(os.urandom(32)) + os.urandom(32).hex())
    assert not missed, f"not found: {missed}"
    assert not clean.leaks, clean.leaks
