"""Field encryption without a database: envelopes, associated data, key ids, blind indexes,
value encodings, conditions on encrypted fields, and keys kept out of every text."""

from __future__ import annotations

import base64
import datetime
import os
import uuid
from decimal import Decimal
from typing import Any

import pytest

from jadugar import (
    ConfigurationError,
    DatabaseOptions,
    DecryptionError,
    EncryptionError,
    EncryptionOptions,
)
from jadugar.encryption.envelope import key_id_of
from jadugar.encryption.fields import ModelCipher, ring_for
from jadugar.encryption.ring import KeyRing
from jadugar.encryption.values import DECODE, ENCODE
from jadugar.query import tree

from ..encryption_models.vault import Patient


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


K1, K2, BLIND = _key(), _key(), _key()
RING = ring_for(EncryptionOptions(keys=f"k1:{K1},k2:{K2}", key_id="k1", blind_index_key=BLIND))
PLACE = ("jenc_patients", "ssn", 1)


def _flip(text: str, byte: int) -> str:
    head, _, body = text.rpartition(":")
    raw = bytearray(base64.b64decode(body))
    raw[byte] ^= 0x01
    return f"{head}:{base64.b64encode(bytes(raw)).decode()}"


def test_ten_thousand_encryptions_of_one_value_are_all_different() -> None:
    sealed = [RING.seal(b"123-45-6789", *PLACE) for _ in range(10_000)]
    assert len(set(sealed)) == 10_000
    assert all(s.startswith("jdg1:k1:") for s in sealed)
    assert {RING.open(s, *PLACE) for s in sealed[:100]} == {b"123-45-6789"}


@pytest.mark.parametrize(
    ("table", "column", "key"),
    [
        ("jenc_patients", "ssn", 2),  # another row
        ("jenc_patients", "diagnosis", 1),  # another column
        ("jenc_people", "ssn", 1),  # another table
        ("jenc_patients", "ssn", "1 "),  # a key that only looks alike
    ],
)
def test_a_ciphertext_opens_only_in_its_own_place(table: str, column: str, key: object) -> None:
    sealed = RING.seal(b"secret", *PLACE)
    with pytest.raises(DecryptionError, match="altered, or copied from another row or column"):
        RING.open(sealed, table, column, key)


def test_every_flipped_bit_position_kind_is_rejected() -> None:
    sealed = RING.seal(b"a longer secret value", *PLACE)
    size = len(base64.b64decode(sealed.rpartition(":")[2]))
    for byte in (0, 11, 12, 20, size - 16, size - 1):  # nonce, ciphertext, tag
        with pytest.raises(DecryptionError, match=r"jenc_patients\.ssn of the row with key 1"):
            RING.open(_flip(sealed, byte), *PLACE)
    for broken in (sealed[:-8], "plain text", "jdg1:k1:not base64!", "jdg2" + sealed[4:]):
        with pytest.raises(DecryptionError):
            RING.open(broken, *PLACE)


def test_an_unknown_key_id_is_named_and_no_key_is_shown() -> None:
    other = ring_for(EncryptionOptions(keys=f"old:{_key()}"))
    sealed = other.seal(b"x", *PLACE)
    assert key_id_of(sealed) == "old"
    with pytest.raises(DecryptionError) as caught:
        RING.open(sealed, *PLACE)
    message = str(caught.value)
    assert "key id 'old', which is not configured (known: k1, k2)" in message
    assert K1 not in message and K2 not in message


def test_a_value_sealed_under_any_configured_key_opens() -> None:
    k2_only = KeyRing({"k2": base64.b64decode(K2)}, "k2")
    assert RING.open(k2_only.seal(b"v", *PLACE), *PLACE) == b"v"


def test_keys_never_appear_in_repr_str_dump_or_errors() -> None:
    options = EncryptionOptions(keys={"k1": K1, "k2": K2}, key_id="k2", blind_index_key=BLIND)
    database = DatabaseOptions(url="sqlite:///:memory:", encryption=options)
    texts = [repr(options), str(options), repr(database), str(database), repr(RING)]
    texts += [options.model_dump_json(), database.model_dump_json()]
    for bad in (
        {"keys": f"k1:{K1[:-4]}"},  # 30 bytes
        {"keys": f"k1:{K1}", "blind_index_key": "!" + BLIND},
        {"keys": f"k1:{K1},k2:{K2}"},  # which one is active?
        {"keys": f"k1:{K1}", "key_id": "k9"},
        {"keys": f"k1 {K1}"},
        {"keys": {"bad id!": K1}},
    ):
        with pytest.raises(ConfigurationError) as caught:
            EncryptionOptions(**bad)
        texts.append(str(caught.value))
        with pytest.raises(ConfigurationError) as caught:
            DatabaseOptions(url="sqlite://", encryption=bad)
        texts.append(str(caught.value))
    joined = "\n".join(texts)
    for secret in (K1, K2, BLIND, K1[:-4], BLIND[:20]):
        assert secret not in joined
    assert "'k1 " not in joined  # nor the start of a key written without its colon
    assert "k1" in repr(options) and "which one seals new values" in joined


def test_encryption_keys_from_the_environment() -> None:
    env = {
        "JADUGAR_ENCRYPTION_KEYS": f" k1:{K1} , k2:{K2},",
        "JADUGAR_ENCRYPTION_KEY_ID": "k2",
        "JADUGAR_BLIND_INDEX_KEY": BLIND,
    }
    options = DatabaseOptions.from_env(env).encryption
    assert options is not None and options.key_id == "k2" and sorted(options.keys) == ["k1", "k2"]
    assert options.key_bytes()["k1"] == base64.b64decode(K1)
    assert options.index_key_bytes() == base64.b64decode(BLIND)
    assert DatabaseOptions.from_env({}).encryption is None
    with pytest.raises(ConfigurationError, match="JADUGAR_ENCRYPTION_KEY") as caught:
        DatabaseOptions.from_env({**env, "JADUGAR_ENCRYPTION_KEY_ID": "k3"})
    assert K1 not in str(caught.value)


def test_the_blind_index_is_per_column_and_per_key() -> None:
    first = RING.blind_index(b"123-45-6789", "jenc_patients", "ssn")
    assert first == RING.blind_index(b"123-45-6789", "jenc_patients", "ssn")
    assert len(first) == 64 and first != RING.blind_index(b"123-45-6780", "jenc_patients", "ssn")
    assert first != RING.blind_index(b"123-45-6789", "jenc_patients", "tax_id")
    other = KeyRing({"k1": base64.b64decode(K1)}, "k1", base64.b64decode(_key()))
    assert first != other.blind_index(b"123-45-6789", "jenc_patients", "ssn")
    no_index = KeyRing({"k1": base64.b64decode(K1)}, "k1")
    with pytest.raises(ConfigurationError, match="JADUGAR_BLIND_INDEX_KEY"):
        no_index.blind_index(b"x", "jenc_patients", "ssn")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int", -42),
        ("bigint", 2**62),
        ("float", 0.1),
        ("decimal", Decimal("-12.30")),
        ("str", "naïve ☃"),
        ("text", ""),
        ("bool", False),
        ("date", datetime.date(1815, 12, 10)),
        ("time", datetime.time(23, 59, 1, 5)),
        ("datetime", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)),
        ("uuid", uuid.UUID(int=7)),
        ("json", {"b": [1, None, "x"], "a": {"c": 1.5}}),
        ("bytes", b"\x00\xff"),
        ("enum", "draft"),
    ],
)
def test_every_type_comes_back_as_itself(kind: str, value: Any) -> None:
    sealed = RING.seal(ENCODE[kind](value), *PLACE)
    back = DECODE[kind](RING.open(sealed, *PLACE))
    assert back == value and type(back) is type(value)


def _condition(node: tree.Expr) -> tree.Expr:
    cipher = Patient._cipher
    assert cipher is not None
    return cipher.condition(RING, node)


def test_equality_on_a_searchable_field_becomes_its_blind_index() -> None:
    digest = RING.blind_index(b"111-11-1111", "jenc_patients", "ssn")
    node = ((Patient.c.ssn == "111-11-1111") & (Patient.c.name == "Ada")).node
    assert _condition(node) == tree.And(
        (
            tree.Compare(tree.ColumnRef("ssn_bidx"), "=", tree.Value(digest)),
            tree.Compare(tree.ColumnRef("jenc_patients.name"), "=", tree.Value("Ada")),
        )
    )
    plain = (Patient.c.name == "Ada").node
    assert _condition(plain) is plain
    assert _condition(Patient.c.diagnosis.is_null().node) == Patient.c.diagnosis.is_null().node


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Patient.c.diagnosis == "x", r"Patient\.diagnosis is encrypted.*searchable: true"),
        (lambda: Patient.c.ssn > "1", r"Patient\.ssn is encrypted.*only equality"),
        (lambda: ~(Patient.c.born == datetime.date(2000, 1, 1)), r"Patient\.born is encrypted"),
        (
            lambda: Patient.c.balance.between(Decimal(1), Decimal(2)),
            r"Patient\.balance is encrypted",
        ),
    ],
)
def test_other_conditions_on_encrypted_fields_are_refused(build: Any, message: str) -> None:
    with pytest.raises(EncryptionError, match=message):
        _condition(build().node)


def test_equality_lookups_go_to_the_blind_index_or_are_refused() -> None:
    cipher = Patient._cipher
    assert cipher is not None
    lookup = cipher.lookup(RING, {"ssn": "111-11-1111", "name": "Ada", "diagnosis": None})
    assert lookup == {
        "ssn_bidx": RING.blind_index(b"111-11-1111", "jenc_patients", "ssn"),
        "name": "Ada",
        "diagnosis": None,
    }
    with pytest.raises(EncryptionError, match=r"Patient\.diagnosis is encrypted"):
        cipher.lookup(RING, {"diagnosis": "fine"})


def test_sealing_a_row_binds_it_to_its_key_and_adds_the_blind_index() -> None:
    cipher = ModelCipher.of(Patient.__jadugar__)
    assert cipher is not None
    values = {"name": "Ada", "ssn": "111-11-1111", "diagnosis": None, "born": datetime.date.today()}
    sealed = cipher.seal(RING, values, 5)
    assert sealed["name"] == "Ada" and sealed["diagnosis"] is None
    assert sealed["ssn_bidx"] == RING.blind_index(b"111-11-1111", "jenc_patients", "ssn")
    row = {"id": 5, **sealed}
    cipher.open_rows(RING, [row])
    assert row == {"id": 5, **values}
    with pytest.raises(DecryptionError):
        cipher.open_rows(RING, [{"id": 6, **sealed}])
