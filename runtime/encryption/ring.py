"""``KeyRing``: the keys of one database, turned into ciphers once, never shown.

Associated data binds a ciphertext to its place: ``table``, ``column`` and the row's
primary key, so a value copied to another row or column no longer opens. The blind index
is HMAC-SHA256 under a separate key over the same table and column plus the plaintext: equal
values in one column give equal indexes, and nothing else can be learned from them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ConfigurationError, DecryptionError
from .envelope import Envelope, EnvelopeError, open_payload, seal


def associated_data(table: str, column: str, key: object) -> bytes:
    return b"\x00".join((b"jadugar", table.encode(), column.encode(), str(key).encode()))


class KeyRing:
    """Seal with the active key; open with whichever configured key sealed a value."""

    __slots__ = ("_aeads", "_index_key", "key_id")

    def __init__(
        self, keys: Mapping[str, bytes], key_id: str, index_key: bytes | None = None
    ) -> None:
        if key_id not in keys:
            raise ConfigurationError(
                f"encryption.key_id: {key_id!r} is not one of the configured key ids "
                f"({', '.join(sorted(keys))})",
                field="encryption.key_id",
            )
        self._aeads = {k: AESGCM(v) for k, v in keys.items()}
        self._index_key = index_key
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"<KeyRing active={self.key_id!r} ids={sorted(self._aeads)}>"

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._aeads))

    def seal(self, plaintext: bytes, table: str, column: str, key: object) -> str:
        aead = self._aeads[self.key_id]
        return seal(aead, self.key_id, plaintext, associated_data(table, column, key))

    def open(self, text: str, table: str, column: str, key: object) -> bytes:
        where = f"{table}.{column} of the row with key {key!r}"
        try:
            envelope = Envelope.parse(text)
        except EnvelopeError as exc:
            raise DecryptionError(f"{where} does not hold an encrypted value ({exc})") from None
        aead = self._aeads.get(envelope.key_id)
        if aead is None:
            raise DecryptionError(
                f"{where} was encrypted with key id {envelope.key_id!r}, which is not "
                f"configured (known: {', '.join(self.key_ids)}): add that key to "
                "encryption.keys / JADUGAR_ENCRYPTION_KEYS"
            )
        try:
            return open_payload(aead, envelope, associated_data(table, column, key))
        except EnvelopeError:
            raise DecryptionError(
                f"{where} does not decrypt: the ciphertext was altered, or copied from "
                "another row or column"
            ) from None

    def blind_index(self, plaintext: bytes, table: str, column: str) -> str:
        if self._index_key is None:
            raise ConfigurationError(
                f"{table}.{column} is searchable, but no blind index key is configured: set "
                "encryption.blind_index_key / JADUGAR_BLIND_INDEX_KEY (32 bytes, base64)",
                field="encryption.blind_index_key",
            )
        message = b"\x00".join((table.encode(), column.encode(), plaintext))
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()
