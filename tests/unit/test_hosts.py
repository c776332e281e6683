"""URLs naming several hosts (a Galera cluster) and the order new connections try them in
(runtime/hosts.py); no server needed."""

from __future__ import annotations

import pytest

from jadugar import (
    ConfigurationError,
    DatabaseConnectionError,
    DatabaseOptions,
    SerializationError,
)
from jadugar.dialects.mysql.errors import translate
from jadugar.hosts import DOWN_FOR, HostSet

HOSTS = [("a", 1), ("b", 2), ("c", 3)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_first_available_keeps_the_url_order_and_puts_a_failed_host_last() -> None:
    clock = Clock()
    hosts = HostSet(HOSTS, "first_available", clock=clock)
    assert hosts.order() == HOSTS
    assert hosts.order() == HOSTS
    hosts.failed(("a", 1))
    assert hosts.order() == [("b", 2), ("c", 3), ("a", 1)]  # still tried, last
    assert hosts.down() == [("a", 1)]
    clock.now += DOWN_FOR
    assert hosts.order() == HOSTS  # failed long enough ago: first again (fail back)
    hosts.failed(("a", 1))
    hosts.succeeded(("a", 1))
    assert hosts.order() == HOSTS


def test_round_robin_starts_one_host_further_each_time() -> None:
    clock = Clock()
    hosts = HostSet(HOSTS, "round_robin", clock=clock)
    firsts = [hosts.order()[0] for _ in range(6)]
    assert firsts == HOSTS + HOSTS
    hosts.failed(("b", 2))
    orders = [hosts.order() for _ in range(3)]
    assert [o[0] for o in orders] == [("a", 1), ("c", 3), ("c", 3)]
    assert all(o[-1] == ("b", 2) for o in orders)


def test_a_multi_host_mysql_url_gives_every_host_and_the_policy() -> None:
    url = "mysql://root:pw@127.0.0.1:3311,127.0.0.1:3312,db3/test?host_selection=round_robin"
    options = DatabaseOptions(url=url)
    params = options.connect_params()
    assert params.hosts is not None
    assert params.hosts.hosts == (("127.0.0.1", 3311), ("127.0.0.1", 3312), ("db3", 3306))
    assert params.hosts.policy == "round_robin"
    assert (params.host, params.port) == ("127.0.0.1", 3311)
    assert params.describe() == "mysql://root@127.0.0.1:3311,127.0.0.1:3312,db3:3306/test"
    assert "pw" not in repr(params)
    # the keyword wins over the URL, as for the other URL options
    keyword = DatabaseOptions(url=url, host_selection="first_available").connect_params()
    assert keyword.hosts is not None and keyword.hosts.policy == "first_available"
    # each call makes its own HostSet: a manager's state is its own
    assert options.connect_params().hosts is not params.hosts
    single = DatabaseOptions(url="mysql://root@127.0.0.1:3311/test").connect_params()
    assert single.hosts is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u:pw@h1:3311,,h3:3313/db", "empty host name in host 2 of 3 ('')"),
        ("mysql://u:pw@h1:3311,:3312/db", "empty host name in host 2 of 2 (':3312')"),
        ("mysql://u:pw@h1:3311,h2:33o2/db", "bad port in host 2 of 2 ('h2:33o2')"),
        ("mysql://u:pw@h1:3311,h2:0/db", "bad port '0' in host 2 of 2"),
        ("mysql://u:pw@h1,h1:3306/db", "host h1:3306 is named twice"),
        ("mysql://u:pw@h1,h2/db?host_selection=nearest", "host_selection='nearest'"),
        ("postgresql://u:pw@h1,h2/db", "several hosts are only supported for mysql"),
    ],
)
def test_a_bad_host_list_names_the_part(url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        DatabaseOptions(url=url)
    assert caught.value.field == "url"
    assert reason in str(caught.value)
    assert "pw" not in str(caught.value).replace("u:***", "")


def test_a_part_before_a_missing_at_is_never_shown() -> None:
    # no '@': "u:secret" may be a user and password whose '@' was lost: not quoted
    with pytest.raises(ConfigurationError) as caught:
        DatabaseOptions(url="mysql://h1:3306,u:secret/db")
    assert "bad port in host 2 of 2:" in str(caught.value)
    assert "('u:secret')" not in str(caught.value)


class ServerError(Exception):
    """Shaped like a PyMySQL error: ``args == (errno, message)``."""


def test_galera_errors_are_translated_for_retry_and_failover() -> None:
    conflict = ServerError(
        1213, "Deadlock found when trying to get lock; try restarting transaction"
    )
    assert isinstance(translate(conflict, "COMMIT"), SerializationError)  # retried whole
    cut_off = ServerError(1047, "WSREP has not yet prepared node for application use")
    assert isinstance(translate(cut_off, "SELECT 1"), DatabaseConnectionError)  # another node
    other = ServerError(1047, "Unknown command")
    assert not isinstance(translate(other, "SELECT 1"), DatabaseConnectionError)
