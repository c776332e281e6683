"""TLS to PostgreSQL (SPEC 1, ``ssl``): against a throwaway cluster serving a self-signed
certificate for ``CN=localhost`` (SAN ``DNS:localhost, IP:127.0.0.1``), see tls_cluster.py.

Every refusal is paired with a connection that succeeds with the same server and host, so
a test cannot pass because the server is unreachable or the check "always fails".
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from jadugar import DatabaseConnectionError, DatabaseManager, DatabaseOptions, PoolOptions

from .tls_cluster import TlsCluster, session_cluster

SSL_SQL = "select ssl from pg_stat_ssl where pid = pg_backend_pid()"
PASSWORD = "tls-Canary-pw:@/x"  # trust auth ignores it; it must not show up in errors


@pytest.fixture(scope="session")
def tls_cluster() -> Iterator[TlsCluster]:
    """The throwaway TLS cluster of tls_cluster.py, shared by every module of the session."""
    yield from session_cluster()


def options(url: str, **kwargs: Any) -> DatabaseOptions:
    return DatabaseOptions(
        url=url, pool=PoolOptions(max=1), connect_timeout=5, retry_options={"attempts": 1}, **kwargs
    )


async def encrypted(opts: DatabaseOptions) -> bool:
    """Connect, and ask the server whether this session is encrypted."""
    async with DatabaseManager(opts) as db:
        row = await db.query.raw(SSL_SQL).first()
    assert row is not None, "pg_stat_ssl has no row for this backend"
    return bool(row["ssl"])


async def refused(opts: DatabaseOptions) -> DatabaseConnectionError:
    async with DatabaseManager(opts) as db:
        with pytest.raises(DatabaseConnectionError) as info:
            await db.query.raw(SSL_SQL).first()
    return info.value


def cert_query(cluster: TlsCluster, mode: str) -> str:
    return f"sslmode={mode}&sslrootcert={quote(str(cluster.ca_file), safe='/')}"


# ---- require / disable ------------------------------------------------------------------


@pytest.mark.parametrize("form", ["option", "option-true", "url"])
async def test_require_connects_encrypted(tls_cluster: TlsCluster, form: str) -> None:
    if form == "url":
        opts = options(tls_cluster.url(query="sslmode=require"))
    else:
        opts = options(tls_cluster.url(), ssl="require" if form == "option" else True)
    assert await encrypted(opts) is True


async def test_require_does_not_check_the_certificate_name(tls_cluster: TlsCluster) -> None:
    host = tls_cluster.other_address or tls_cluster.other_name
    if host is None:
        pytest.skip("no second loopback address nor host name for 127.0.0.1 on this machine")
    assert await encrypted(options(tls_cluster.url(host), ssl="require")) is True


@pytest.mark.parametrize("form", ["option", "option-false", "url"])
async def test_disable_connects_unencrypted(tls_cluster: TlsCluster, form: str) -> None:
    if form == "url":
        opts = options(tls_cluster.url(query="sslmode=disable"))
    else:
        opts = options(tls_cluster.url(), ssl="disable" if form == "option" else False)
    assert await encrypted(opts) is False


async def test_keyword_wins_over_url_sslmode(tls_cluster: TlsCluster) -> None:
    """SPEC/config: options given as keywords win over the same options in the URL."""
    opts = options(tls_cluster.url(query="sslmode=disable"), ssl="require")
    assert await encrypted(opts) is True


# ---- verification -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["verify-full", "verify-ca"])
async def test_verify_without_trusted_ca_refuses(tls_cluster: TlsCluster, mode: str) -> None:
    url = tls_cluster.url(password=PASSWORD, query=f"sslmode={mode}")
    err = await refused(options(url))
    text = str(err)
    assert "certificate" in text.lower(), text
    assert PASSWORD not in text
    assert quote(PASSWORD, safe="") not in text
    assert "Canary" not in repr(err)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("form", ["option", "url"])
async def test_verify_full_with_the_ca_connects(
    tls_cluster: TlsCluster, host: str, form: str
) -> None:
    if form == "url":
        opts = options(tls_cluster.url(host, query=cert_query(tls_cluster, "verify-full")))
    else:
        opts = options(
            tls_cluster.url(host), ssl="verify-full", ssl_root_cert=str(tls_cluster.ca_file)
        )
    assert opts.connect_params().ssl_mode == "verify-full"
    assert await encrypted(opts) is True


async def test_verify_full_with_an_ssl_context(tls_cluster: TlsCluster) -> None:
    context = ssl.create_default_context(cafile=str(tls_cluster.ca_file))
    assert await encrypted(options(tls_cluster.url("localhost"), ssl=context)) is True


def _other_hosts(cluster: TlsCluster) -> list[str]:
    return [h for h in (cluster.other_address, cluster.other_name) if h]


@pytest.mark.parametrize("which", ["address", "name"])
async def test_verify_full_refuses_a_host_not_in_the_certificate(
    tls_cluster: TlsCluster, which: str
) -> None:
    host = tls_cluster.other_address if which == "address" else tls_cluster.other_name
    if host is None:
        what = "a second loopback address" if which == "address" else "a host name for 127.0.0.1"
        pytest.skip(f"{what} (other than localhost) is not available on this machine")
    # the same host, the same CA: reachable, allowed by pg_hba, and the CA is trusted ...
    verify_ca = options(
        tls_cluster.url(host), ssl="verify-ca", ssl_root_cert=str(tls_cluster.ca_file)
    )
    assert await encrypted(verify_ca) is True
    # ... so verify-full fails on the name alone
    full = options(
        tls_cluster.url(host, password=PASSWORD),
        ssl="verify-full",
        ssl_root_cert=str(tls_cluster.ca_file),
    )
    err = await refused(full)
    text = str(err)
    assert "mismatch" in text.lower() or "hostname" in text.lower(), text
    assert PASSWORD not in text and quote(PASSWORD, safe="") not in text
