"""The option models below ``DatabaseOptions`` (SPEC 1): pool, retries, migrations,
encryption keys and the query cache, and the base that turns pydantic's errors into a
``ConfigurationError`` naming the field without ever echoing a secret."""

from __future__ import annotations

import difflib
import json
import random
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from .encryption.keys import check_key_id, check_keys, key_bytes, split_keys
from .errors import ConfigurationError
from .masking import SecretUrl, _mask_urls_in, _url_secrets, mask_url, redact

DEFAULT_URL = "sqlite:///jadugar.db"
"""Where Jadugar points when no URL is configured: a SQLite file in the working folder."""


# ---------------------------------------------------------------------------------------
# Option models


def _error_path(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, type | None]:
    """``("pool", "min")`` -> ``"pool.min"``; union tags after a leaf field are dropped.
    Also returns the model owning the last part (for did-you-mean suggestions)."""
    text = ""
    current: type | None = model
    owner: type | None = model
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        fields = current.model_fields if current and issubclass(current, BaseModel) else {}
        if index and part not in fields:
            break
        text += f".{part}" if text else part
        owner = current
        annotation = fields[part].annotation if part in fields else None
        current = annotation if isinstance(annotation, type) else None
    return text, owner


def _to_configuration_error(
    model: type[BaseModel], exc: pydantic.ValidationError, data: object
) -> ConfigurationError:
    problems: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            parent, owner = _error_path(model, loc[:-1])
            name = str(loc[-1])
            path = f"{parent}.{name}" if parent else name
            known = list(owner.model_fields) if owner and issubclass(owner, BaseModel) else []
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            problems.setdefault(path, []).append(f"unknown option ({hint})")
            continue
        path, _owner = _error_path(model, loc)
        if error["type"] in ("value_error", "assertion_error"):
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = error["msg"]
        problems.setdefault(path, []).append(message)
        # an error of the whole model (no path) has the whole input, secrets and all
        if path and path.split("[")[0].split(".")[0] not in _SECRET_FIELDS and "input" in error:
            shown.setdefault(path, _short_repr(error["input"]))
    parts = []
    for path, messages in problems.items():
        text = f"{path}: {' or '.join(dict.fromkeys(messages))}"
        if path in shown:
            text += f" (got {shown[path]})"
        parts.append(text)
    message = f"invalid {model.__name__}: " + "; ".join(parts)
    return ConfigurationError(
        redact(_mask_urls_in(message), _secrets_in(data)), field=next(iter(problems), "") or None
    )


_SECRET_FIELDS = frozenset({"url", "replicas", "encryption", "keys", "blind_index_key"})


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _secrets_in(data: object) -> list[str]:
    """Passwords in raw constructor input, found leniently (it may be invalid)."""
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data)
        except ValueError:
            return []
    if not isinstance(data, Mapping):
        return []
    candidates: list[object] = [data.get("url")]
    replicas = data.get("replicas")
    if isinstance(replicas, list | tuple):
        candidates.extend(replicas)
    found: list[str] = []
    for item in candidates:
        if isinstance(item, SecretUrl | SecretStr):
            item = item.get_secret_value()
        if isinstance(item, str):
            found.extend(_url_secrets(item))
    return found


class _Options(BaseModel):
    """Base of the option models: keywords or a dict in, unknown keys refused, frozen, and
    every validation failure raised as ``ConfigurationError`` naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            error = _to_configuration_error(type(self), exc, data)
        else:
            return
        raise error  # outside ``except``: the pydantic error (with inputs) is not chained

    # Marks this __init__ as a thin wrapper of pydantic's, so validating a nested option
    # (``pool={"min": -1}``) reports ``pool.min`` instead of calling it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except pydantic.ValidationError as exc:
            error = _to_configuration_error(cls, exc, obj)
        raise error

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except pydantic.ValidationError as exc:
            error = _to_configuration_error(cls, exc, json_data)
        raise error

    @classmethod
    def model_validate_strings(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_strings(obj, *args, **kwargs)
        except pydantic.ValidationError as exc:
            error = _to_configuration_error(cls, exc, obj)
        raise error

    def __setattr__(self, name: str, value: Any) -> None:
        raise ConfigurationError(
            f"{type(self).__name__} is immutable: use options.replace({name}=...)", field=name
        )

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some options changed (``model_copy`` does not validate).

        >>> PoolOptions(max=5).replace(min=2).model_dump(include={"min", "max"})
        {'min': 2, 'max': 5}
        """
        given = {name: getattr(self, name) for name in self.model_fields_set}
        return type(self)(**{**given, **changes})


class PoolOptions(_Options):
    """Connection pool sizing and timeouts, in seconds.

    ``idle_timeout``: an idle connection above ``min`` is closed after this long;
    ``max_lifetime``: a connection is replaced after this long; ``ping_after``: a connection
    idle longer than this is pinged before it is handed out (0: always).

    >>> PoolOptions(min=1, max=20, acquire_timeout=5).acquire_timeout
    5.0
    """

    min: int = Field(default=0, ge=0)
    max: int = Field(default=10, ge=1)
    idle_timeout: float = Field(default=300.0, gt=0)
    acquire_timeout: float = Field(default=30.0, gt=0)
    create_timeout: float = Field(default=10.0, gt=0)
    max_lifetime: float = Field(default=3600.0, gt=0)
    ping_after: float = Field(default=5.0, ge=0)

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, value: int, info: pydantic.ValidationInfo) -> int:
        low = info.data.get("min")
        if low is not None and value < low:
            raise ValueError(f"max ({value}) must be at least min ({low})")
        return value


class RetryOptions(_Options):
    """How connecting (and safe statements) are retried: ``attempts`` tries in all, with
    exponential backoff from ``base_delay`` capped at ``max_delay`` seconds, each delay
    shortened by up to ``jitter`` (a fraction) at random.

    >>> RetryOptions(attempts=5, base_delay=0.1, max_delay=1, jitter=0).delay(3)
    0.4
    """

    attempts: int = Field(default=3, ge=1)
    base_delay: float = Field(default=0.05, ge=0)
    max_delay: float = Field(default=2.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1)

    @field_validator("max_delay")
    @classmethod
    def _max_not_below_base(cls, value: float, info: pydantic.ValidationInfo) -> float:
        base = info.data.get("base_delay")
        if base is not None and value < base:
            raise ValueError(f"max_delay ({value}) must be at least base_delay ({base})")
        return value

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        capped = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))
        return capped * (1.0 - self.jitter * rand())


_TABLE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


class MigrationOptions(_Options):
    """Where migration files live and how they are recorded and applied.

    >>> MigrationOptions(directory="db/migrations", transaction=False).table_name
    'jadugar_migrations'
    """

    directory: str = Field(default="migrations", min_length=1)
    table_name: str = "jadugar_migrations"
    sort_order: Literal["asc", "desc"] = "asc"
    transaction: bool = True  # each migration in its own transaction, where DDL allows

    @field_validator("table_name")
    @classmethod
    def _plain_identifier(cls, value: str) -> str:
        if not _TABLE_NAME_RE.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a plain table name: use letters, digits and _, "
                "optionally schema-qualified (public.jadugar_migrations)"
            )
        return value


class EncryptionOptions(_Options):
    """Keys of encrypted fields (``encrypted: true`` in a schema): ``keys`` maps key ids to
    32-byte keys in base64 (or ``"id:base64,id2:base64"``), ``key_id`` is the one new values
    are sealed with (the only key when there is one), ``blind_index_key`` the HMAC key of
    ``searchable`` fields. Keys never appear in a ``repr``, a dump or an error.

    >>> EncryptionOptions(keys="k1:" + "A" * 43 + "=").key_id
    'k1'
    """

    keys: dict[str, SecretStr]
    key_id: str | None = None
    blind_index_key: SecretStr | None = None

    if TYPE_CHECKING:  # what the validators accept: text or SecretStr keys

        def __init__(
            self,
            *,
            keys: str | SecretStr | Mapping[str, str | SecretStr],
            key_id: str | None = None,
            blind_index_key: str | SecretStr | None = None,
        ) -> None: ...

    @field_validator("keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_keys(value.get_secret_value() if isinstance(value, SecretStr) else value)

    @field_validator("keys")
    @classmethod
    def _decodable(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        check_keys({k: v.get_secret_value() for k, v in value.items()})
        return value

    @field_validator("blind_index_key")
    @classmethod
    def _index_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            key_bytes(value.get_secret_value(), "blind_index_key")
        return value

    @model_validator(mode="after")
    def _active(self) -> Self:
        if self.key_id is None:
            if len(self.keys) != 1:
                raise ConfigurationError(
                    f"encryption.key_id: {len(self.keys)} keys are configured "
                    f"({', '.join(sorted(self.keys))}); say which one seals new values",
                    field="encryption.key_id",
                )
            self.__dict__["key_id"] = next(iter(self.keys))
        elif check_key_id(self.key_id) not in self.keys:
            raise ConfigurationError(
                f"encryption.key_id: {self.key_id!r} is not one of the configured key ids "
                f"({', '.join(sorted(self.keys))})",
                field="encryption.key_id",
            )
        return self

    def key_bytes(self) -> dict[str, bytes]:
        """The decoded keys, for the key ring only."""
        return check_keys({k: v.get_secret_value() for k, v in self.keys.items()})

    def index_key_bytes(self) -> bytes | None:
        key = self.blind_index_key
        return None if key is None else key_bytes(key.get_secret_value(), "blind_index_key")


class CacheOptions(_Options):
    """The query result cache (``.cache(ttl=...)`` on a query): the in-memory backend's
    bounds, and the TTL of a ``.cache()`` given none. ``enabled=False`` turns every
    ``.cache()`` into a plain read (writes still invalidate). ``backend``: ``"memory"``
    (one LRU per manager) or a Redis URL whose results every process shares, with keys
    under ``key_prefix`` and each Redis call bounded by ``backend_timeout`` seconds.

    >>> CacheOptions(max_entries=500, default_ttl=30).max_bytes is None
    True
    >>> CacheOptions(backend="redis://:pw@cache:6379/0").backend
    SecretUrl('redis://:***@cache:6379/0')
    """

    enabled: bool = True
    max_entries: int = Field(default=1000, ge=1)
    max_bytes: int | None = Field(default=None, ge=1)  # an estimate of the rows' memory
    default_ttl: float | None = Field(default=60.0, gt=0)  # seconds; None: until invalidated
    # "memory" (per manager), or a Redis URL shared by processes (runtime/cache/redis_backend.py)
    backend: SecretUrl = Field(default_factory=lambda: SecretUrl("memory"))
    key_prefix: str = Field(default="jadugar:", min_length=1)  # Redis keys start with it
    backend_timeout: float = Field(default=0.25, gt=0)  # seconds per Redis call

    if TYPE_CHECKING:  # what the validators accept: the backend as text

        def __init__(
            self,
            *,
            enabled: bool = True,
            max_entries: int = 1000,
            max_bytes: int | None = None,
            default_ttl: float | None = 60.0,
            backend: str | SecretUrl = "memory",
            key_prefix: str = "jadugar:",
            backend_timeout: float = 0.25,
        ) -> None: ...

    @model_validator(mode="after")
    def _known_backend(self) -> Self:
        problem = _cache_backend_problem(self.backend.get_secret_value())
        if problem:
            raise ConfigurationError(
                f'cache.backend: {problem} (got {self.backend.masked!r}); use "memory" or '
                "redis://[user:password@]host[:port][/db], rediss://... or unix:///path",
                field="cache.backend",
            )
        return self

    @property
    def shared(self) -> bool:
        """True when ``backend`` is a Redis URL (results shared between processes)."""
        return self.backend.get_secret_value() != "memory"


def _cache_backend_problem(value: str) -> str | None:
    if value == "memory":
        return None
    try:
        split = urlsplit(value)
        split.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL ({mask_url(str(exc))})"
    if split.scheme not in ("redis", "rediss", "unix"):
        return f"unknown cache backend scheme {split.scheme + '://' if split.scheme else ''!r}"
    if split.scheme == "unix":
        return None if split.path else "a unix:// URL needs the socket's path"
    if not split.hostname:
        return "a Redis URL needs a host"
    db = split.path.strip("/")
    if db and not db.isdigit():
        return f"the Redis database must be a number, not {db!r}"
    return None
