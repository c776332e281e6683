"""Masking secrets: URLs whose password never reaches a repr, a dump, a log or an error."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

from pydantic import (
    GetCoreSchemaHandler,
    SecretStr,
)
from pydantic_core import core_schema

MASK = "***"

# ---------------------------------------------------------------------------------------
# Masking


_SECRET_QUERY_KEYS = frozenset({"password", "pass", "pwd", "sslpassword", "secret", "token"})
_SECRET_QUERY_RE = re.compile(
    r"(?i)([?&;](?:" + "|".join(sorted(_SECRET_QUERY_KEYS)) + r")=)[^&;#]*"
)
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def mask_url(url: str) -> str:
    """The URL with its password (and password-like query values) replaced by ``***``.

    Errs on the side of hiding: everything up to the last ``@`` counts as credentials, so
    a password with unencoded ``/ ? # @`` is hidden too.

    >>> mask_url("postgresql://app:s3cret@db:5432/app?sslmode=require")
    'postgresql://app:***@db:5432/app?sslmode=require'
    """
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    userinfo, at, tail = rest.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        if colon:
            rest = f"{user}:{MASK}@{tail}"
    masked = f"{head}{sep}{rest}"
    return _SECRET_QUERY_RE.sub(lambda m: m.group(1) + MASK, masked)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``: as given, URL-encoded (either hex
    case), and escaped the way ``repr`` and JSON print it.

    >>> redact("login failed for s3cr%2Ft", ["s3cr/t"])
    'login failed for ***'
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        for form in (
            secret,
            unquote(secret),
            quote(secret, safe=""),
            quote(secret),
            quote_plus(secret, safe=""),
            repr(secret)[1:-1],
            json.dumps(secret)[1:-1],
        ):
            forms.add(form)
            forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form))
    forms.discard("")
    if not forms:
        return text
    pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, MASK, text)


def _url_secrets(url: str) -> list[str]:
    """Every password-like part of a URL (raw and decoded), for ``redact``."""
    found: list[str] = []
    _head, _sep, rest = url.partition("://")
    userinfo, at, _tail = (rest or url).rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    try:
        split = urlsplit(url)
        if split.password:
            found.append(split.password)
        found.extend(v for k, v in parse_qsl(split.query) if k.lower() in _SECRET_QUERY_KEYS)
    except ValueError:
        pass
    return [s for item in found for s in (item, unquote(item)) if s]


def _mask_urls_in(text: str) -> str:
    return _URL_IN_TEXT_RE.sub(lambda m: mask_url(m.group(0)), text)


class SecretUrl:
    """A database URL that never shows its password: ``str``, ``repr`` and JSON dumps
    give the masked form; ``get_secret_value()`` gives the real one, for drivers.

    >>> url = SecretUrl("mysql://root:pw@127.0.0.1/app")
    >>> url
    SecretUrl('mysql://root:***@127.0.0.1/app')
    >>> url.get_secret_value()
    'mysql://root:pw@127.0.0.1/app'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask_url(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"SecretUrl({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def _coerce(cls, value: object) -> SecretUrl:
        if isinstance(value, SecretUrl):
            return value
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str) and value.strip():
            return cls(value.strip())
        raise ValueError("expected a database URL string, e.g. postgresql://user@host:5432/db")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_after_validator_function(
                cls._coerce, core_schema.str_schema()
            ),
            python_schema=core_schema.no_info_plain_validator_function(cls._coerce),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value, info: value.masked if info.mode_is_json() else value,
                info_arg=True,
            ),
        )
