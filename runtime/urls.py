"""URL parsing for every scheme of SPEC 1, and SSL modes turned into ``ssl.SSLContext``."""

from __future__ import annotations

import re
import ssl as _ssl
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import ConfigurationError
from .hosts import HostSelection
from .masking import MASK, mask_url

Engine = Literal["postgres", "mysql", "mongodb", "sqlite"]
SslMode = Literal["disable", "require", "verify-ca", "verify-full"]


# ---------------------------------------------------------------------------------------
# URLs

_SCHEMES: dict[str, Engine] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mongodb": "mongodb",
    "mongodb+srv": "mongodb",
    "mongomock": "mongodb",
    "sqlite": "sqlite",
}
_SQL_SCHEMES = frozenset({"postgres", "postgresql", "mysql", "mariadb", "sqlite"})
_DEFAULT_PORTS: dict[str, int] = {"postgres": 5432, "mysql": 3306, "mongodb": 27017}
_EXAMPLE_URLS: dict[str, str] = {
    "postgres": "postgresql://user:password@127.0.0.1:5432/app",
    "mysql": "mysql://root@127.0.0.1:3306/app",
    "mongodb": "mongodb://127.0.0.1:27017/app",
    "sqlite": "sqlite:///app.db",
}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_ENCODE_HINT = (
    "; if the password or user name contains @ : / ? # or %, percent-encode it "
    "(urllib.parse.quote(password, safe=''))"
)
_SSL_MODES: dict[str, SslMode] = {
    "disable": "disable",
    "disabled": "disable",
    "false": "disable",
    "0": "disable",
    "no": "disable",
    "off": "disable",
    "require": "require",
    "required": "require",
    "true": "require",
    "1": "require",
    "yes": "require",
    "on": "require",
    "verify-ca": "verify-ca",
    "verify-full": "verify-full",
    "verify-identity": "verify-full",
}
_SSL_MODE_HELP = (
    "use disable, require (encrypted, unverified), verify-ca or verify-full "
    "(prefer/allow are not supported: choose require or disable)"
)


_FLAGS = {"true": True, "1": True, "yes": True, "on": True}
_FLAGS.update({"false": False, "0": False, "no": False, "off": False})
_HOST_SELECTIONS: dict[str, HostSelection] = {
    "first_available": "first_available",
    "round_robin": "round_robin",
}
MULTI_HOST_ENGINES = frozenset({"mysql", "mongodb"})


def _ssl_mode(value: str) -> SslMode | None:
    return _SSL_MODES.get(value.strip().lower().replace("_", "-"))


@dataclass(frozen=True, slots=True)
class _ParsedUrl:
    scheme: str
    engine: Engine
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    path: str | None = None
    ssl_mode: SslMode | None = None
    ssl_root_cert: str | None = None
    connect_timeout: float | None = None
    pool_size: int | None = None
    statement_cache: bool | None = None  # ?statement_cache=false (behind PgBouncer)
    host_selection: HostSelection | None = None  # ?host_selection=round_robin
    hosts: tuple[tuple[str, int], ...] = ()  # every host of a MySQL URL naming several
    options: dict[str, str] = field(default_factory=dict)


def _parse_url(url: str, where: str) -> _ParsedUrl:
    """Split a database URL; every problem is a ``ConfigurationError(field=where)``."""
    text = url.strip()
    masked = mask_url(text)

    def fail(reason: str, hint: str = "") -> ConfigurationError:
        return ConfigurationError(f"{where}: {reason} in {masked!r}{hint}", field=where)

    match = _SCHEME_RE.match(text)
    if not match:
        raise fail("not a database URL", f"; expected e.g. {_EXAMPLE_URLS['postgres']}")
    scheme = match.group(1).lower()
    base, plus, _driver = scheme.partition("+")
    engine = _SCHEMES.get(scheme) or (_SCHEMES[base] if plus and base in _SQL_SCHEMES else None)
    if engine is None:
        known = ", ".join(f"{name}://" for name in _SCHEMES)
        raise fail(f"unknown scheme {scheme!r}", f"; use one of {known}")
    try:
        split = urlsplit(text)
    except ValueError as exc:
        raise fail(f"malformed URL ({exc})", _ENCODE_HINT) from None
    if split.fragment or text.endswith("#"):
        raise fail("unexpected '#'", _ENCODE_HINT)

    options: dict[str, str] = {}
    found: dict[str, Any] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        lower = key.lower()
        if lower in ("sslmode", "ssl_mode", "ssl-mode", "ssl", "tls"):
            mode = _ssl_mode(value)
            if mode is None:
                raise fail(f"bad {key}={value!r}", f"; {_SSL_MODE_HELP}")
            if lower in ("ssl", "tls") and "ssl_mode" in found:
                continue  # an explicit sslmode wins over ssl=true
            if engine == "mongodb" and lower in ("ssl", "tls") and mode == "require":
                mode = "verify-full"  # MongoDB's tls=true verifies the certificate
            found["ssl_mode"] = mode
        elif lower in ("sslrootcert", "ssl_ca", "ssl-ca", "tlscafile"):
            found["ssl_root_cert"] = value
        elif lower == "connect_timeout":
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if not seconds > 0:
                raise fail(f"connect_timeout={value!r} is not a positive number of seconds")
            found["connect_timeout"] = seconds
        elif lower == "pool_size":
            if not value.isdigit() or int(value) < 1:
                raise fail(f"pool_size={value!r} is not a positive whole number")
            found["pool_size"] = int(value)
        elif lower == "statement_cache":
            flag = _FLAGS.get(value.strip().lower())
            if flag is None:
                raise fail(f"statement_cache={value!r} is not true or false")
            found["statement_cache"] = flag
        elif lower == "host_selection":
            policy = _HOST_SELECTIONS.get(value.strip().lower().replace("-", "_"))
            if policy is None:
                raise fail(f"host_selection={value!r} is not first_available or round_robin")
            found["host_selection"] = policy
        elif lower in ("host", "user", "password") and engine != "sqlite":
            found[f"query_{lower}"] = value
        else:
            options[key] = value

    def parsed(**parts: Any) -> _ParsedUrl:
        return _ParsedUrl(
            scheme=scheme,
            engine=engine,
            ssl_mode=found.get("ssl_mode"),
            ssl_root_cert=found.get("ssl_root_cert"),
            connect_timeout=found.get("connect_timeout"),
            pool_size=found.get("pool_size"),
            statement_cache=found.get("statement_cache"),
            host_selection=found.get("host_selection"),
            options=options,
            **parts,
        )

    if engine == "sqlite":
        if split.netloc:
            raise fail(
                "a sqlite URL has no host",
                "; use sqlite:///relative.db, sqlite:////absolute/path.db or sqlite:///:memory:",
            )
        if not split.path:
            return parsed(path=":memory:")  # sqlite://, as in SQLAlchemy
        path = unquote(split.path[1:])
        if not path:
            raise fail("no database file", "; use sqlite:///app.db or sqlite:///:memory:")
        return parsed(path=path)
    if scheme == "mongomock":
        name = unquote(split.netloc or split.path.strip("/"))
        return parsed(database=name or None)

    if "@" in split.path or "@" in split.query:
        raise fail("unexpected '@' after the host", _ENCODE_HINT)
    userinfo, at, hostlist = split.netloc.rpartition("@")
    user: str | None = None
    password: str | None = None
    if at:
        raw_user, colon, raw_password = userinfo.partition(":")
        user = unquote(raw_user) or None
        password = unquote(raw_password) if colon else None
    user = user or found.get("query_user") or None
    password = password if password is not None else found.get("query_password")
    if password == MASK:
        raise fail("the password is the mask '***'", "; pass the real URL, not a logged one")

    hosts: list[tuple[str, int | None]] = []
    tokens = hostlist.split(",") if hostlist else []
    for number, token in enumerate(tokens, 1):
        # which part is wrong, when there are several: "host 2 of 3 ('db2:33o6')"; a part
        # is shown only after an '@' (before it, it may be a password missing its '@')
        part = ""
        if len(tokens) > 1:
            part = f" in host {number} of {len(tokens)}" + (f" ({token!r})" if at else "")
        if token.startswith("["):
            host, bracket, rest = token[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise fail(f"malformed IPv6 host{part}", "; write it as [::1]:5432")
            port_text = rest[1:] if rest else None
        else:
            host, colon, port_text_ = token.partition(":")
            port_text = port_text_ if colon else None
        port: int | None = None
        if port_text:
            if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
                shown = f" {port_text!r}" if port_text.isdigit() else ""
                raise fail(f"bad port{shown}{part}: use a number from 1 to 65535", _ENCODE_HINT)
            port = int(port_text)
        if not host:
            hint = "; hosts are separated by single commas: h1:3306,h2:3306" if part else ""
            raise fail(f"empty host name{part}", hint)
        hosts.append((unquote(host), port))
    if not hosts and found.get("query_host"):
        hosts.append((found["query_host"], None))  # libpq style: ?host=/var/run/postgresql
    if not hosts:
        raise fail("no host", f"; e.g. {_EXAMPLE_URLS[engine]}")

    raw_db = split.path[1:]
    if "/" in raw_db:
        raise fail("database name contains '/'", _ENCODE_HINT)
    database = unquote(raw_db) or None
    if scheme == "mongodb+srv":
        if len(hosts) > 1 or hosts[0][1] is not None:
            raise fail("mongodb+srv:// takes one host name and no port")
        return parsed(host=hosts[0][0], user=user, password=password, database=database)
    if len(hosts) > 1 and engine == "mysql":  # a Galera cluster: the driver picks a host
        every = tuple((h, p or _DEFAULT_PORTS["mysql"]) for h, p in hosts)
        twice = next((h for i, h in enumerate(every) if h in every[:i]), None)
        if twice is not None:
            raise fail(f"host {twice[0]}:{twice[1]} is named twice", "; name each host once")
        host, port = every[0]
        return parsed(
            host=host, port=port, user=user, password=password, database=database, hosts=every
        )
    if len(hosts) > 1:
        if engine not in MULTI_HOST_ENGINES:
            raise fail(
                "several hosts are only supported for mysql (a Galera cluster) and mongodb",
                "; give one host, or a load balancer in front of the servers",
            )
        seed = ",".join(
            f"{f'[{h}]' if ':' in h else h}:{p or _DEFAULT_PORTS['mongodb']}" for h, p in hosts
        )
        return parsed(host=seed, user=user, password=password, database=database)
    host, port = hosts[0]
    return parsed(
        host=host,
        port=port or _DEFAULT_PORTS[engine],
        user=user,
        password=password,
        database=database,
    )


def _ssl_context(mode: SslMode, root_cert: str | None) -> _ssl.SSLContext | None:
    if mode == "disable":
        return None
    if mode == "require":
        context = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = _ssl.CERT_NONE
        return context
    try:
        context = _ssl.create_default_context(cafile=root_cert)
    except (OSError, _ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigurationError(
            f"ssl_root_cert: cannot load CA file {root_cert!r} ({reason}); "
            "give a readable PEM file or unset it to use the system CAs",
            field="ssl_root_cert",
        ) from None
    if mode == "verify-ca":
        context.check_hostname = False  # verify_mode stays CERT_REQUIRED
    return context


def _mode_of(context: _ssl.SSLContext) -> SslMode:
    if context.verify_mode == _ssl.CERT_NONE:
        return "require"
    return "verify-full" if context.check_hostname else "verify-ca"
