"""Encrypted fields (``encrypted: true``) on every SQL engine, with the models generated from
tests/encryption_models/schemas/vault.yaml: values encrypted at rest and read back as their
types, ciphertexts bound to their row and column, blind-index lookups, key rotation (the
Python API and ``jadugar rotate-keys``)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import os
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from jadugar import (
    ConfigurationError,
    DatabaseManager,
    DecryptionError,
    EncryptionError,
    EncryptionOptions,
    IntegrityError,
    MigrationOptions,
)
from jadugar.cli import app
from jadugar.encryption import rotate_keys
from jadugar.migrations import MigrationManager
from jadugar.models import bind
from jadugar_generator.makemigrations import make_migration

from ..encryption_models.vault import Credential, Patient, Plain
from ..engines import url
from .conftest import MakeDb

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "encryption_models" / "schemas"
PACKAGE = "tests.encryption_models.vault"
TABLES = ("jenc_patients", "jenc_credentials", "jenc_plains")


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


K1, K2, BLIND = _key(), _key(), _key()


def _options(keys: str, key_id: str) -> EncryptionOptions:
    return EncryptionOptions(keys=keys, key_id=key_id, blind_index_key=BLIND)


OLD = _options(f"k1:{K1}", "k1")
BOTH = _options(f"k1:{K1},k2:{K2}", "k2")
NEW = _options(f"k2:{K2}", "k2")


@pytest.fixture
async def vault(make_db: MakeDb, tmp_path: Path) -> AsyncIterator[DatabaseManager]:
    """The vault tables made by a migration written from the schema; a manager holding key
    k1 that the vault models use; everything dropped afterwards."""
    db = await make_db(encryption=OLD)
    make_migration(SCHEMAS, tmp_path / "migrations", "vault")
    history = f"jm_{uuid.uuid4().hex[:8]}"
    options = MigrationOptions(directory=str(tmp_path / "migrations"), table_name=history)
    migrations = MigrationManager(options, db)
    for table in TABLES:  # leftovers of an interrupted run
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(table)}").execute()
    await migrations.migrate()
    bind(db, PACKAGE)
    try:
        yield db
    finally:
        bind(None, PACKAGE)
        await migrations.reset()
        await db.query.raw(f"DROP TABLE {db.query.quote(history)}").execute()


async def _raw(db: DatabaseManager, table: str, key: object) -> dict[str, Any]:
    row = await db.query.table(table).where({"id": key}).first()
    assert row is not None
    return row


async def _patient(ssn: str = "123-45-6789", **values: Any) -> Patient:
    return await Patient.create(
        name=values.pop("name", "Ada"),
        ssn=ssn,
        born=values.pop("born", datetime.date(1815, 12, 10)),
        **values,
    )


async def test_values_are_encrypted_at_rest_and_read_back_as_their_types(
    vault: DatabaseManager,
) -> None:
    record = {"allergies": ["penicillin"], "weight": 61.5}
    created = await _patient(diagnosis="fine", balance=Decimal("12.50"), record=record)
    found = await Patient.find(created.id)
    assert found.ssn == "123-45-6789" and found.diagnosis == "fine"
    assert found.born == datetime.date(1815, 12, 10) and found.balance == Decimal("12.50")
    assert found.record == record and found.model_dump() == created.model_dump()

    raw = await _raw(vault, "jenc_patients", created.id)
    for column, plain in (("ssn", "123-45-6789"), ("diagnosis", "fine"), ("born", "1815")):
        assert raw[column].startswith("jdg1:k1:"), raw[column]
        assert plain not in raw[column]
    assert raw["name"] == "Ada" and len(raw["ssn_bidx"]) == 64

    found.diagnosis = "worse"
    await found.save()
    assert (await _raw(vault, "jenc_patients", created.id))["diagnosis"] != raw["diagnosis"]
    await created.refresh()
    assert created.diagnosis == "worse"
    updated = await Patient.update(created.id, diagnosis=None, ssn="999-99-9999")
    assert updated.diagnosis is None
    raw = await _raw(vault, "jenc_patients", created.id)
    assert raw["diagnosis"] is None and (await Patient.find(created.id)).ssn == "999-99-9999"
    assert await Patient.find_by(ssn="123-45-6789").count() == 0  # the blind index moved too
    assert (await Patient.find_by(ssn="999-99-9999").first()) == updated

    # a key the application gives (uuid): sealed before the insert, in one statement
    key = uuid.uuid4()
    await Credential.create(id=key, service="mail", secret="hunter2", active=False)
    credential = await Credential.find(key)
    assert credential.secret == "hunter2" and credential.active is False
    assert "hunter2" not in (await _raw(vault, "jenc_credentials", key))["secret"]


async def test_a_ciphertext_moved_to_another_row_or_column_does_not_decrypt(
    vault: DatabaseManager,
) -> None:
    ada = await _patient("111-11-1111", diagnosis="ada's")
    bob = await _patient("222-22-2222", name="Bob", diagnosis="bob's")
    ada_raw = await _raw(vault, "jenc_patients", ada.id)
    table = vault.query.table("jenc_patients")

    await table.where({"id": bob.id}).update({"diagnosis": ada_raw["diagnosis"]})
    with pytest.raises(DecryptionError, match=r"jenc_patients\.diagnosis .*copied from another"):
        await Patient.find(bob.id)

    await table.where({"id": ada.id}).update({"diagnosis": ada_raw["ssn"]})  # same row
    with pytest.raises(DecryptionError, match=r"jenc_patients\.diagnosis"):
        await Patient.find(ada.id)
    await table.where({"id": ada.id}).update({"diagnosis": ada_raw["diagnosis"]})
    assert (await Patient.find(ada.id)).diagnosis == "ada's"  # back in place: fine again


async def test_a_failed_insert_leaves_no_row_behind(vault: DatabaseManager) -> None:
    await _patient("111-11-1111")
    with pytest.raises(IntegrityError):  # the blind index is unique: the insert fails
        await _patient("111-11-1111", name="Eve")
    with pytest.raises(RuntimeError, match="abort"):
        async with vault.transaction():  # the insert and its sealing update: a savepoint
            await _patient("222-22-2222", name="Bob")
            raise RuntimeError("abort")
    rows = await vault.query.table("jenc_patients").select("name", "ssn").all()
    assert [r["name"] for r in rows] == ["Ada"] and rows[0]["ssn"].startswith("jdg1:k1:")


async def test_searchable_fields_are_found_by_equality_and_others_refuse_conditions(
    vault: DatabaseManager,
) -> None:
    ada = await _patient("111-11-1111")
    await _patient("222-22-2222", name="Bob")
    assert [p.id for p in await Patient.find_by(ssn="111-11-1111")] == [ada.id]
    assert (await Patient.query().where(Patient.c.ssn == "111-11-1111").first()) == ada
    names = await Patient.query().where(Patient.c.ssn.in_(["111-11-1111", "222-22-2222"])).get()
    assert sorted(p.name for p in names) == ["Ada", "Bob"]
    assert await Patient.find_by(ssn="333-33-3333").first() is None
    assert await Patient.query().where(Patient.c.diagnosis.is_null()).count() == 2

    with pytest.raises(EncryptionError, match=r"Patient\.diagnosis is encrypted.*searchable: true"):
        await Patient.find_by({"diagnosis": "fine"})  # type: ignore[arg-type]
    with pytest.raises(EncryptionError, match=r"Patient\.born is encrypted"):
        await Patient.query().where(Patient.c.born > datetime.date(1900, 1, 1)).get()
    with pytest.raises(EncryptionError, match=r"Patient\.ssn is encrypted.*only equality"):
        await Patient.query().where(Patient.c.ssn.like("111%")).get()
    with pytest.raises(EncryptionError, match=r"Patient\.diagnosis is encrypted: a bulk update"):
        await Patient.query().where(Patient.c.name == "Ada").update(diagnosis="x")
    with pytest.raises(IntegrityError):  # unique: true checks the blind index
        await _patient("111-11-1111", name="Eve")


async def test_a_model_with_encrypted_fields_needs_keys(
    vault: DatabaseManager, make_db: MakeDb
) -> None:
    await _patient()
    Patient.bind(await make_db())
    try:
        with pytest.raises(ConfigurationError, match="Patient has encrypted fields") as caught:
            await Patient.find_by(name="Ada").first()
        assert "JADUGAR_ENCRYPTION_KEYS" in str(caught.value)
        assert await Plain.query().count() == 0  # models without encrypted fields need none
    finally:
        Patient.bind(None)
    Patient.bind(await make_db(encryption=NEW))  # k1 is gone
    try:
        with pytest.raises(DecryptionError, match="key id 'k1', which is not configured") as error:
            await Patient.find_by(name="Ada").first()
        assert K1 not in str(error.value) and K2 not in str(error.value)
    finally:
        Patient.bind(None)


async def test_rotation_re_encrypts_every_row_in_batches_and_resumes(
    vault: DatabaseManager, make_db: MakeDb
) -> None:
    rows = 2_500
    await Credential.create_many(
        [{"id": uuid.uuid4(), "service": f"s{i}", "secret": f"pw{i}"} for i in range(rows)]
    )
    await Patient.create_many(
        [
            {"name": f"p{i}", "ssn": f"000-00-{i:04d}", "born": datetime.date(2000, 1, 1 + i)}
            for i in range(20)
        ]
    )
    assert (await Patient.find_by(ssn="000-00-0007").first()) is not None
    rotated_db = await make_db(encryption=BOTH)
    calls: list[tuple[str, int, int]] = []
    report = await rotate_keys(
        rotated_db,
        [Credential, Patient, Plain],
        batch_size=400,
        progress=lambda m, d, t: calls.append((m, d, t)),
    )
    assert report.key_id == "k2" and report.rotated == rows + 20
    assert [c for c in calls if c[0] == "Credential"][-1] == ("Credential", rows, rows)
    assert len([c for c in calls if c[0] == "Credential"]) == 1 + 7  # start + 7 batches
    assert (await rotate_keys(rotated_db, [Credential, Patient])).rotated == 0  # resumable

    secrets = await rotated_db.query.table("jenc_credentials").select("secret").all()
    assert len(secrets) == rows and all(r["secret"].startswith("jdg1:k2:") for r in secrets)
    bind(await make_db(encryption=NEW), PACKAGE)  # only the new key: every row readable
    assert sorted(c.secret for c in await Credential.query().get()) == sorted(
        f"pw{i}" for i in range(rows)
    )
    assert (await Patient.find_by(ssn="000-00-0007").first()) is not None  # index unchanged
    assert len(await Patient.query().get()) == 20


async def _invoke(*args: str) -> Result:
    """The command in a thread: it runs its own event loop."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_rotate_keys_command_shows_progress(
    vault: DatabaseManager, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        await _patient(f"000-00-{i:04d}", name=f"p{i}")
    monkeypatch.chdir(ROOT / "tests")  # the package: tests/encryption_models/vault
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("JADUGAR_ENCRYPTION_KEYS", f"k1:{K1},k2:{K2}")
    monkeypatch.setenv("JADUGAR_ENCRYPTION_KEY_ID", "k2")
    monkeypatch.setenv("JADUGAR_BLIND_INDEX_KEY", BLIND)
    args = ["rotate-keys", "--url", url(engine, tmp_path), "--output", "encryption_models"]
    result = await _invoke(*args, "--package", "vault", "--batch-size", "7")
    assert result.exit_code == 0, result.output
    assert "Patient: 30 row(s) read, 30 re-encrypted under 'k2'" in result.output
    assert "30/30" in result.output  # the progress bar's last state
    assert K1 not in result.output and K2 not in result.output
    raw = await vault.query.table("jenc_patients").select("ssn").all()
    assert all(r["ssn"].startswith("jdg1:k2:") for r in raw)

    quiet = await _invoke(*args, "--package", "vault", "--quiet")
    assert quiet.exit_code == 0 and quiet.output == ""
    monkeypatch.setenv("JADUGAR_ENCRYPTION_KEY_ID", "k3")
    bad = await _invoke(*args, "--package", "vault")
    assert bad.exit_code == 2 and "'k3' is not one of the configured key ids" in bad.output
    assert K1 not in bad.output
