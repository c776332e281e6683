"""One sealed value as text: ``jdg1:<key id>:<base64 of nonce + AES-GCM ciphertext>``.

Text works the same on every SQL engine (a TEXT column) and in logs it shows which key
sealed it. The 12-byte nonce is random per value; the 16-byte tag at the end of the
ciphertext authenticates both the value and the associated data (table, column, key).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "jdg1"
NONCE_BYTES = 12
TAG_BYTES = 16


class EnvelopeError(ValueError):
    """Not an envelope, or one that does not open with its key and associated data."""


@dataclass(frozen=True, slots=True)
class Envelope:
    key_id: str
    payload: bytes  # nonce + ciphertext + tag

    @classmethod
    def parse(cls, text: str) -> Envelope:
        version, _, rest = text.partition(":")
        key_id, sep, body = rest.partition(":")
        if version != VERSION or not sep or not key_id:
            raise EnvelopeError(f"not a {VERSION} envelope")
        try:
            payload = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise EnvelopeError("the envelope's body is not base64") from None
        if len(payload) < NONCE_BYTES + TAG_BYTES:
            raise EnvelopeError("the envelope is too short")
        return cls(key_id, payload)

    def text(self) -> str:
        return f"{VERSION}:{self.key_id}:{base64.b64encode(self.payload).decode('ascii')}"


def key_id_of(text: str) -> str | None:
    """The key id an envelope names, without decoding it (None: not an envelope)."""
    version, _, rest = text.partition(":")
    key_id, sep, _ = rest.partition(":")
    return key_id if version == VERSION and sep else None


def seal(aead: AESGCM, key_id: str, plaintext: bytes, associated: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return Envelope(key_id, nonce + aead.encrypt(nonce, plaintext, associated)).text()


def open_payload(aead: AESGCM, envelope: Envelope, associated: bytes) -> bytes:
    nonce, ciphertext = envelope.payload[:NONCE_BYTES], envelope.payload[NONCE_BYTES:]
    try:
        return aead.decrypt(nonce, ciphertext, associated)
    except InvalidTag:
        raise EnvelopeError("authentication failed") from None
