"""From ``ConnectParams`` to a MongoDB client: which client (``driver=``), the connection
string, TLS and pool options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

from ...errors import ConfigurationError
from ..base import ConnectParams

if TYPE_CHECKING:
    from ...pool_types import PoolOptionsLike

ClientKind = Literal["motor", "pymongo", "mongomock"]
CLIENT_KINDS: tuple[ClientKind, ...] = ("motor", "pymongo", "mongomock")
DEFAULT_CLIENT: ClientKind = "motor"
DEFAULT_DATABASE = "test"


def _client_kind(params: ConnectParams, chosen: str | None) -> ClientKind:
    option = params.options.get("driver")
    if params.host is None:  # mongomock://name
        if chosen not in (None, "mongomock") or option not in (None, "mongomock"):
            raise ConfigurationError(
                "driver: a mongomock:// URL always uses the in-process mongomock client",
                field="driver",
            )
        return "mongomock"
    wanted = chosen or option or DEFAULT_CLIENT
    kind = next((k for k in CLIENT_KINDS if k == wanted), None)
    if kind is None:
        raise ConfigurationError(
            f"driver: unknown MongoDB client {wanted!r}; use motor, pymongo or mongomock",
            field="driver",
        )
    return kind


def _is_srv(params: ConnectParams) -> bool:
    """A ``mongodb+srv://`` URL: the hosts come from DNS SRV records, TLS is on by default."""
    return params.scheme == "mongodb+srv"


def build_uri(params: ConnectParams) -> str:
    """A MongoDB connection string from ``ConnectParams`` (the password percent-encoded,
    the URL's other query options passed through, Jadugar's own ``driver`` dropped)."""
    assert params.host is not None
    auth = ""
    if params.user:
        auth = quote(params.user, safe="")
        if params.password is not None:
            auth += ":" + quote(params.password, safe="")
        auth += "@"
    host = params.host
    if params.port is not None:
        host = f"[{host}]:{params.port}" if ":" in host else f"{host}:{params.port}"
    scheme = "mongodb+srv" if _is_srv(params) else "mongodb"
    path = "/" + quote(params.database, safe="") if params.database else "/"
    options = {k: v for k, v in params.options.items() if k.lower() != "driver"}
    query = f"?{urlencode(options)}" if options else ""
    return f"{scheme}://{auth}{host}{path}{query}"


def _tls_options(params: ConnectParams) -> dict[str, Any]:
    """The client's TLS options for ``ssl_mode`` (``sslmode=`` / ``tls=`` / ``ssl=`` in the
    URL, or ``DatabaseOptions.ssl``) and the CA file (``tlsCAFile=`` / ``sslrootcert=`` in
    the URL, or ``ssl_root_cert``)."""
    mode = params.ssl_mode
    if mode == "disable":
        # the scheme's default: off for mongodb://, on (and verified) for mongodb+srv://
        return {}
    if mode == "require":
        return {"tls": True, "tlsInsecure": True}
    options: dict[str, Any] = {"tls": True}
    if mode == "verify-ca":
        options["tlsAllowInvalidHostnames"] = True
    if params.ssl_root_cert:
        options["tlsCAFile"] = params.ssl_root_cert
    return options


def _client_options(params: ConnectParams, pool: PoolOptionsLike | None) -> dict[str, Any]:
    given = {k.lower() for k in params.options}
    timeout_ms = max(1, int(params.connect_timeout * 1000))
    wanted: dict[str, Any] = {
        "connectTimeoutMS": timeout_ms,
        "serverSelectionTimeoutMS": timeout_ms,
        "appname": "jadugar",
    }
    if pool is not None:
        wanted["maxPoolSize"] = pool.max
        wanted["minPoolSize"] = pool.min
        if pool.idle_timeout is not None:
            wanted["maxIdleTimeMS"] = int(pool.idle_timeout * 1000)
        if pool.acquire_timeout is not None:
            wanted["waitQueueTimeoutMS"] = int(pool.acquire_timeout * 1000)
    # options written in the URL win over Jadugar's defaults
    options = {k: v for k, v in wanted.items() if k.lower() not in given}
    options.update(_tls_options(params))
    return options


def _pool_sizes(params: ConnectParams, options: Mapping[str, Any]) -> tuple[int, int]:
    lowered = {k.lower(): v for k, v in {**params.options, **options}.items()}

    def number(name: str, default: int) -> int:
        try:
            return int(lowered.get(name.lower(), default))
        except (TypeError, ValueError):
            return default

    return number("minPoolSize", 0), number("maxPoolSize", 100)
