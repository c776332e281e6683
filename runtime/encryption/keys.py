"""Configured keys as text -> bytes, checked; no message ever repeats a key.

A key is 32 random bytes written in base64 (``openssl rand -base64 32``). Several keys
are written ``id:base64,id2:base64`` (``JADUGAR_ENCRYPTION_KEYS``); a key id is what an
envelope records, so it is short and plain: letters, digits, ``_``, ``-`` and ``.``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

KEY_BYTES = 32
KEY_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def key_bytes(text: str, what: str) -> bytes:
    """The 32 bytes of one base64 key; ``what`` names it in the error (never the key)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"{what} is not valid base64: make one with `openssl rand -base64 32`"
        ) from None
    if len(raw) != KEY_BYTES:
        raise ValueError(
            f"{what} is {len(raw)} bytes, not {KEY_BYTES}: make one with `openssl rand -base64 32`"
        )
    return raw


def check_key_id(key_id: str) -> str:
    if not KEY_ID_RE.fullmatch(key_id):
        # longer than any id: maybe a key in the id's place (44 characters), never shown
        shown = repr(key_id) if len(key_id) <= 32 else f"of {len(key_id)} characters"
        raise ValueError(f"key id {shown} must be 1 to 32 letters, digits, '_', '-' or '.'")
    return key_id


def split_keys(value: object) -> object:
    """``"id:base64,id2:base64"`` -> ``{"id": "base64", ...}``; mappings pass through."""
    if not isinstance(value, str):
        return value
    keys: dict[str, str] = {}
    for index, part in enumerate(p for p in value.split(",") if p.strip()):
        key_id, sep, key = part.strip().partition(":")
        if not sep:
            raise ValueError(f"entry {index + 1} is not written id:base64 (e.g. k1:3q2+7w...=)")
        if key_id.strip() in keys:
            raise ValueError(f"key id {key_id.strip()!r} is given twice")
        keys[key_id.strip()] = key.strip()
    return keys


def check_keys(keys: Mapping[str, str]) -> dict[str, bytes]:
    """Every key id checked and every key decoded."""
    if not keys:
        raise ValueError("no keys: give at least one id:base64 key")
    return {check_key_id(k): key_bytes(v, f"key {k!r}") for k, v in keys.items()}
