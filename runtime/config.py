"""Configuration (SPEC 1): the option models, URL parsing, the environment, and masking.

Everything here is pure except ``DatabaseOptions.connect_params``, which reads the
``ssl_root_cert`` file while building an ``ssl.SSLContext``. Every bad option surfaces as
``ConfigurationError`` naming the field, and no password reaches a ``repr``, a dump or a
message: URLs are held in ``SecretUrl`` and shown through ``mask_url``.
"""

from __future__ import annotations

import os
import re
import ssl as _ssl
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from .connect_params import ConnectParams
from .errors import ConfigurationError
from .hosts import HostSelection, HostSet
from .masking import SecretUrl, _url_secrets, mask_url, redact
from .options import (
    DEFAULT_URL,
    CacheOptions,
    EncryptionOptions,
    MigrationOptions,
    PoolOptions,
    RetryOptions,
    _Options,
)
from .replicas.consistency import Consistency
from .urls import (
    _EXAMPLE_URLS,
    _SSL_MODE_HELP,
    Engine,
    SslMode,
    _mode_of,
    _parse_url,
    _ssl_context,
    _ssl_mode,
)

# ---------------------------------------------------------------------------------------
# DatabaseOptions


class EnvVar(NamedTuple):
    """One environment variable read by ``DatabaseOptions.from_env``."""

    option: str  # dotted option path, e.g. "pool.max"
    description: str


# fmt: off
ENVIRONMENT_VARIABLES: dict[str, EnvVar] = {
    "JADUGAR_DATABASE_URL": EnvVar("url", "database URL (wins over DATABASE_URL)"),
    "DATABASE_URL": EnvVar("url", f"database URL when JADUGAR_DATABASE_URL is unset; default {DEFAULT_URL}"),
    "JADUGAR_ENGINE": EnvVar("engine", "postgres, mysql, mongodb or sqlite; inferred from the URL when unset"),
    "JADUGAR_POOL_SIZE": EnvVar("pool_size", "shortcut for JADUGAR_POOL_MAX"),
    "JADUGAR_TIMEOUT": EnvVar("timeout", "default per-query timeout, seconds"),
    "JADUGAR_SSL": EnvVar("ssl", "true/false or disable, require, verify-ca, verify-full"),
    "JADUGAR_SSL_ROOT_CERT": EnvVar("ssl_root_cert", "CA file (PEM) for verify-ca / verify-full"),
    "JADUGAR_STATEMENT_CACHE": EnvVar("statement_cache", "prepared-statement cache; false behind PgBouncer"),
    "JADUGAR_CONNECT_TIMEOUT": EnvVar("connect_timeout", "seconds to open one connection"),
    "JADUGAR_HOST_SELECTION": EnvVar("host_selection", "URL with several hosts (Galera): first_available or round_robin"),
    "JADUGAR_SQLITE_BUSY_TIMEOUT": EnvVar("sqlite_busy_timeout", "seconds SQLite waits for a lock"),
    "JADUGAR_SQLITE_INLINE_READS": EnvVar("sqlite_inline_reads", "false: every SQLite read goes through the worker thread"),
    "JADUGAR_REPLICAS": EnvVar("replicas", "read replica URLs, comma separated"),
    "JADUGAR_READ_ONLY": EnvVar("read_only", "true: refuse every write on the client (ReadOnlyError) and open read-only sessions"),
    "JADUGAR_DEFAULT_CONSISTENCY": EnvVar("default_consistency", "reads with replicas: strong, eventual, read_your_writes or bounded_staleness"),
    "JADUGAR_MAX_REPLICA_LAG": EnvVar("max_replica_lag", "seconds of lag past which a replica leaves the rotation"),
    "JADUGAR_REPLICA_CHECK_INTERVAL": EnvVar("replica_check_interval", "seconds between replica health and lag checks"),
    "JADUGAR_POOL_MIN": EnvVar("pool.min", "connections kept open when idle"),
    "JADUGAR_POOL_MAX": EnvVar("pool.max", "most connections open at once"),
    "JADUGAR_POOL_IDLE_TIMEOUT": EnvVar("pool.idle_timeout", "seconds an idle connection above min is kept"),
    "JADUGAR_POOL_ACQUIRE_TIMEOUT": EnvVar("pool.acquire_timeout", "seconds to wait for a free connection"),
    "JADUGAR_POOL_CREATE_TIMEOUT": EnvVar("pool.create_timeout", "seconds to wait for a new connection"),
    "JADUGAR_POOL_MAX_LIFETIME": EnvVar("pool.max_lifetime", "seconds before a connection is replaced"),
    "JADUGAR_POOL_PING_AFTER": EnvVar("pool.ping_after", "idle seconds after which a connection is pinged before use"),
    "JADUGAR_RETRY_ATTEMPTS": EnvVar("retry_options.attempts", "tries in all, including the first"),
    "JADUGAR_RETRY_BASE_DELAY": EnvVar("retry_options.base_delay", "first backoff delay, seconds"),
    "JADUGAR_RETRY_MAX_DELAY": EnvVar("retry_options.max_delay", "largest backoff delay, seconds"),
    "JADUGAR_RETRY_JITTER": EnvVar("retry_options.jitter", "fraction of each delay randomised, 0 to 1"),
    "JADUGAR_MIGRATIONS_DIRECTORY": EnvVar("migrations.directory", "folder of migration files"),
    "JADUGAR_MIGRATIONS_TABLE_NAME": EnvVar("migrations.table_name", "table recording applied migrations"),
    "JADUGAR_MIGRATIONS_SORT_ORDER": EnvVar("migrations.sort_order", "asc or desc"),
    "JADUGAR_MIGRATIONS_TRANSACTION": EnvVar("migrations.transaction", "run each migration in a transaction"),
    "JADUGAR_ENCRYPTION_KEYS": EnvVar("encryption.keys", "keys of encrypted fields: id:base64,id2:base64 (32 bytes each)"),
    "JADUGAR_ENCRYPTION_KEY_ID": EnvVar("encryption.key_id", "the key id new values are encrypted with"),
    "JADUGAR_BLIND_INDEX_KEY": EnvVar("encryption.blind_index_key", "HMAC key (32 bytes, base64) of searchable encrypted fields"),
    "JADUGAR_CACHE_ENABLED": EnvVar("cache.enabled", "false: every .cache() reads the database"),
    "JADUGAR_CACHE_MAX_ENTRIES": EnvVar("cache.max_entries", "results the in-memory query cache keeps"),
    "JADUGAR_CACHE_MAX_BYTES": EnvVar("cache.max_bytes", "estimated bytes the in-memory query cache keeps"),
    "JADUGAR_CACHE_DEFAULT_TTL": EnvVar("cache.default_ttl", "seconds a .cache() result lives when given no ttl"),
    "JADUGAR_CACHE_BACKEND": EnvVar("cache.backend", "memory, or a redis:// / rediss:// URL shared by processes"),
    "JADUGAR_CACHE_KEY_PREFIX": EnvVar("cache.key_prefix", "prefix of the query cache's Redis keys"),
    "JADUGAR_CACHE_BACKEND_TIMEOUT": EnvVar("cache.backend_timeout", "seconds a Redis cache call may take before the read goes uncached"),
}
"""Environment variable -> option, for ``from_env`` and the README."""
# fmt: on

_URL_VARIABLES = ("JADUGAR_DATABASE_URL", "DATABASE_URL")
_URL_SPLIT_RE = re.compile(r"\s*,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


class DatabaseOptions(_Options):
    """Where the database is and how to talk to it (SPEC 1).

    The engine is inferred from the URL scheme; options given as keywords win over the
    same options in the URL query (``sslmode``, ``sslrootcert``, ``connect_timeout``,
    ``pool_size``, ``statement_cache``, ``host_selection``); other query options are passed
    to the driver. A MySQL/MariaDB URL may name several hosts (a Galera cluster:
    ``mysql://app@db1,db2,db3/app``); ``host_selection`` says which one each new
    connection goes to.

    >>> options = DatabaseOptions(url="postgresql://app:pw@127.0.0.1/app", pool_size=20)
    >>> options.engine, options.pool.max, options.url_masked
    ('postgres', 20, 'postgresql://app:***@127.0.0.1/app')
    >>> DatabaseOptions.from_env({"DATABASE_URL": "sqlite:///:memory:"}).engine
    'sqlite'
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine | None = None
    url: SecretUrl = Field(default_factory=lambda: SecretUrl(DEFAULT_URL))
    pool_size: int | None = Field(default=None, ge=1)
    pool: PoolOptions = Field(default_factory=PoolOptions)
    ssl: bool | SslMode | _ssl.SSLContext | None = None
    ssl_root_cert: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    retry_options: RetryOptions = Field(default_factory=RetryOptions)
    migrations: MigrationOptions = Field(default_factory=MigrationOptions)
    cache: CacheOptions = Field(default_factory=CacheOptions)
    replicas: list[SecretUrl] = Field(default_factory=list)
    default_consistency: Consistency = "read_your_writes"
    max_replica_lag: float = Field(default=30.0, ge=0)
    replica_check_interval: float = Field(default=1.0, gt=0)
    statement_cache: bool = True
    sqlite_busy_timeout: float = Field(default=5.0, ge=0)
    sqlite_inline_reads: bool = True  # small reads on the event loop's thread (see the driver)
    connect_timeout: float = Field(default=10.0, gt=0)  # per host, with several
    # a MySQL URL naming several hosts (a Galera cluster): which one a new connection
    # goes to (runtime/hosts.py); also ?host_selection= in the URL
    host_selection: HostSelection = "first_available"
    encryption: EncryptionOptions | None = None
    read_only: bool = False
    # PostgreSQL: set_config(name, value, true) at the start of every transaction, and of
    # every statement outside one (runtime/session_settings.py), for row-level security
    session_variables: Callable[[], Mapping[str, str]] | None = None

    if TYPE_CHECKING:
        # What the validators accept (a plain URL string, dicts for the nested options),
        # for type checkers; pydantic's own __init__ runs. Kept in step with the fields by
        # tests/unit/test_config.py.
        def __init__(
            self,
            *,
            engine: Engine | None = None,
            url: str | SecretUrl | SecretStr = DEFAULT_URL,
            pool_size: int | None = None,
            pool: PoolOptions | Mapping[str, Any] = ...,
            ssl: bool | SslMode | _ssl.SSLContext | None = None,
            ssl_root_cert: str | None = None,
            timeout: float | None = None,
            retry_options: RetryOptions | Mapping[str, Any] = ...,
            migrations: MigrationOptions | Mapping[str, Any] = ...,
            cache: CacheOptions | Mapping[str, Any] = ...,
            replicas: Sequence[str | SecretUrl | SecretStr] = ...,
            default_consistency: Consistency = "read_your_writes",
            max_replica_lag: float = 30.0,
            replica_check_interval: float = 1.0,
            statement_cache: bool = True,
            sqlite_busy_timeout: float = 5.0,
            sqlite_inline_reads: bool = True,
            connect_timeout: float = 10.0,
            host_selection: HostSelection = "first_available",
            encryption: EncryptionOptions | Mapping[str, Any] | None = None,
            read_only: bool = False,
            session_variables: Callable[[], Mapping[str, str]] | None = None,
        ) -> None: ...

    @field_validator("ssl", mode="before")
    @classmethod
    def _normalize_ssl(cls, value: object) -> object:
        if value is None or isinstance(value, _ssl.SSLContext):
            return value
        if isinstance(value, bool):
            return "require" if value else "disable"
        mode = _ssl_mode(value) if isinstance(value, str) else None
        if mode is None:
            raise ValueError(f"expected True/False, an ssl.SSLContext or a mode: {_SSL_MODE_HELP}")
        return mode

    @field_serializer("ssl", when_used="json")
    def _ssl_json(self, value: object) -> object:
        return f"SSLContext({_mode_of(value)})" if isinstance(value, _ssl.SSLContext) else value

    @model_validator(mode="after")
    def _resolve(self) -> Self:
        if "url" not in self.model_fields_set and self.engine not in (None, "sqlite"):
            raise ConfigurationError(
                f"url: engine={self.engine!r} needs a url, e.g. {_EXAMPLE_URLS[self.engine]}",
                field="url",
            )
        parsed = _parse_url(self.url.get_secret_value(), "url")
        if self.engine is None:
            self.__dict__["engine"] = parsed.engine  # frozen: derived values set once, here
        elif self.engine != parsed.engine:
            raise ConfigurationError(
                f"engine: engine={self.engine!r} does not match the {parsed.engine} URL "
                f"{self.url_masked!r}; drop engine= or fix the URL",
                field="engine",
            )
        if self.replicas and self.engine == "sqlite":
            raise ConfigurationError(
                "replicas: SQLite is a file, it has no read replicas; remove replicas",
                field="replicas",
            )
        for index, replica in enumerate(self.replicas):
            where = f"replicas[{index}]"
            other = _parse_url(replica.get_secret_value(), where)
            if other.engine != self.engine:
                raise ConfigurationError(
                    f"{where}: a {other.engine} URL {replica.masked!r} cannot replicate a "
                    f"{self.engine} database",
                    field=where,
                )
        if self.session_variables is not None and self.engine != "postgres":
            raise ConfigurationError(
                f"session_variables: set_config() is PostgreSQL's; a {self.engine} database "
                "has no session variables for row-level security",
                field="session_variables",
            )
        self.__dict__["pool"] = self._resolved_pool(parsed.pool_size)
        return self

    def _resolved_pool(self, url_pool_size: int | None) -> PoolOptions:
        pool = self.pool
        max_given = "max" in pool.model_fields_set
        if self.pool_size is not None:
            size, source = self.pool_size, "pool_size"
            if max_given and pool.max != size:
                raise ConfigurationError(
                    f"pool_size: pool_size={size} conflicts with pool.max={pool.max}; set one",
                    field="pool_size",
                )
        elif url_pool_size is not None and not max_given:
            size, source = url_pool_size, "url"
        else:
            return pool
        if size < pool.min:
            raise ConfigurationError(
                f"{source}: pool_size={size} is below pool.min={pool.min}", field=source
            )
        return pool.replace(max=size)

    @property
    def url_masked(self) -> str:
        """The primary URL with the password replaced by ``***``, for logs and messages."""
        return self.url.masked

    def reveal_url(self) -> str:
        """The real primary URL, password included: for drivers only, never for logs."""
        return self.url.get_secret_value()

    def secrets(self) -> list[str]:
        """Every password in the URL and replicas, for ``redact(text, options.secrets())``."""
        found: list[str] = []
        for url in (self.url, *self.replicas, self.cache.backend):
            found.extend(_url_secrets(url.get_secret_value()))
        return found

    def connect_params(self, url: str | SecretUrl | None = None) -> ConnectParams:
        """What a driver needs to connect to the primary, or to ``url`` (a replica).

        >>> DatabaseOptions(url="sqlite:///:memory:").connect_params().path
        ':memory:'
        """
        target = self.url if url is None else url
        raw = target.get_secret_value() if isinstance(target, SecretUrl) else target
        where = "url" if url is None else "replica url"
        parsed = _parse_url(raw, where)
        if parsed.engine != self.engine:
            raise ConfigurationError(
                f"{where}: a {parsed.engine} URL {mask_url(raw)!r} for a {self.engine} database",
                field=where,
            )
        timeout = self.connect_timeout
        if parsed.connect_timeout is not None and "connect_timeout" not in self.model_fields_set:
            timeout = parsed.connect_timeout
        statement_cache = self.statement_cache
        if parsed.statement_cache is not None and "statement_cache" not in self.model_fields_set:
            statement_cache = parsed.statement_cache
        hosts: HostSet | None = None
        if parsed.hosts:  # one HostSet per call: the manager's params keep theirs
            policy = self.host_selection
            if parsed.host_selection is not None and "host_selection" not in self.model_fields_set:
                policy = parsed.host_selection
            hosts = HostSet(parsed.hosts, policy)
        common: dict[str, Any] = {
            "engine": parsed.engine,
            "scheme": parsed.scheme,
            "connect_timeout": timeout,
            "statement_cache": statement_cache,
            "options": dict(parsed.options),
        }
        if parsed.path is not None:
            common["options"].setdefault("busy_timeout", str(self.sqlite_busy_timeout))
            common["options"].setdefault("inline_reads", str(self.sqlite_inline_reads).lower())
            return ConnectParams(path=parsed.path, **common)
        context: _ssl.SSLContext | None = None
        mode: SslMode = "disable"
        root_cert: str | None = None
        if parsed.host is not None:  # mongomock has no server and no TLS
            root_cert = self.ssl_root_cert or parsed.ssl_root_cert
            if isinstance(self.ssl, _ssl.SSLContext):
                context, mode = self.ssl, _mode_of(self.ssl)
            else:
                if isinstance(self.ssl, bool):
                    mode = "require" if self.ssl else "disable"
                else:
                    mode = self.ssl or parsed.ssl_mode or "disable"
                context = _ssl_context(mode, root_cert)
        return ConnectParams(
            host=parsed.host,
            port=parsed.port,
            user=parsed.user,
            password=parsed.password,
            database=parsed.database,
            ssl=context,
            ssl_mode=mode,
            ssl_root_cert=root_cert,
            hosts=hosts,
            **common,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: Any) -> Self:
        """Options from ``ENVIRONMENT_VARIABLES`` (``os.environ`` by default); keyword
        overrides win, per option (``pool=PoolOptions(max=5)`` keeps ``JADUGAR_POOL_MIN``).
        Empty variables count as unset.

        >>> DatabaseOptions.from_env({"JADUGAR_POOL_MAX": "4"}, url="sqlite://").pool.max
        4
        """
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        source: dict[str, str] = {}  # option path -> variable it came from
        for name, spec in ENVIRONMENT_VARIABLES.items():
            raw = env.get(name, "").strip().strip(",")
            if not raw or spec.option == "url":
                continue
            value: object = _URL_SPLIT_RE.split(raw) if spec.option == "replicas" else raw
            *parents, leaf = spec.option.split(".")
            target = data
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
            source[spec.option] = name
        url_variable = next((v for v in _URL_VARIABLES if env.get(v, "").strip()), None)
        if url_variable:
            data["url"] = env[url_variable].strip()
            source["url"] = url_variable
        for key, value in overrides.items():
            if isinstance(value, BaseModel) and isinstance(data.get(key), dict):
                value = {name: getattr(value, name) for name in value.model_fields_set}
            if isinstance(value, Mapping) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
                for name in value:
                    source.pop(f"{key}.{name}", None)
            else:
                data[key] = value
                source.pop(key, None)
        try:
            return cls(**data)
        except ConfigurationError as exc:
            variable = source.get((exc.field or "").split("[")[0])
            error = ConfigurationError(f"{variable}: {exc}", field=exc.field) if variable else exc
        raise error


__all__ = [
    "DEFAULT_URL",
    "ENVIRONMENT_VARIABLES",
    "CacheOptions",
    "DatabaseOptions",
    "EncryptionOptions",
    "Engine",
    "EnvVar",
    "MigrationOptions",
    "PoolOptions",
    "RetryOptions",
    "SecretUrl",
    "SslMode",
    "mask_url",
    "redact",
]
