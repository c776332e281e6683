"""``ConnectParams``: everything a driver needs to open one connection, built by
``DatabaseOptions.connect_params()`` (an option of the lowest layer: the dialects take it)."""

from __future__ import annotations

import ssl as _ssl
from dataclasses import dataclass, field

from .hosts import HostSet, format_host


@dataclass(frozen=True, slots=True)
class ConnectParams:
    """Everything a driver needs to open one connection; built by ``DatabaseOptions``."""

    engine: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    path: str | None = None  # SQLite file, or ":memory:"
    ssl: _ssl.SSLContext | None = None  # None: plain text
    ssl_mode: str = "disable"
    connect_timeout: float = 10.0
    statement_cache: bool = True  # prepared-statement cache (turn off behind PgBouncer)
    options: dict[str, str] = field(default_factory=dict, repr=False)  # extra URL query options
    scheme: str | None = None  # the URL's scheme as written ("mongodb+srv", "postgresql"...)
    ssl_root_cert: str | None = None  # the CA file (PEM) of verify-ca / verify-full
    # a URL naming several hosts (MySQL: a Galera cluster): which one a new connection
    # goes to (runtime/hosts.py); host/port are then the first of them. None: one host.
    hosts: HostSet | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """Where this points, for messages: never the password."""
        if self.path is not None:
            return f"{self.engine} file {self.path}"
        user = f"{self.user}@" if self.user else ""
        where = f"{self.host}:{self.port}"
        if self.hosts is not None:
            where = ",".join(format_host(h) for h in self.hosts.hosts)
        return f"{self.engine}://{user}{where}/{self.database or ''}"
