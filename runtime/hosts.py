"""The hosts of a URL that names several (``mysql://app@db1:3306,db2:3306,db3:3306/app``, a
Galera cluster): in which order a new connection tries them.

Pure bookkeeping, no I/O: the driver asks ``order()`` for the hosts to try, then reports
each host that refused (``failed``) and the one that took the connection (``succeeded``).

- ``first_available``: the hosts in the order of the URL; every connection goes to the
  first one that answers (the others are standbys), and comes back to an earlier host once
  it answers again.
- ``round_robin``: each new connection starts one host further along the list, so a pool's
  connections spread evenly over the hosts.

Either way a host that failed within the last ``down_for`` seconds is tried after the
others (still tried, as a last resort): a dead host costs one refused connect, not one per
new connection, and one that hangs costs ``connect_timeout`` once.

>>> hosts = HostSet([("a", 1), ("b", 2), ("c", 3)], "round_robin", clock=lambda: 0.0)
>>> [hosts.order()[0] for _ in range(4)]
[('a', 1), ('b', 2), ('c', 3), ('a', 1)]
>>> hosts.failed(("c", 3))
>>> hosts.order()  # starts at b; c refused a moment ago: last
[('b', 2), ('a', 1), ('c', 3)]
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Literal

HostSelection = Literal["first_available", "round_robin"]
Host = tuple[str, int]

DOWN_FOR = 5.0
"""Seconds a host that refused a connection is tried after the others."""


class HostSet:
    """The order in which a new connection tries the hosts (see the module docstring)."""

    __slots__ = ("_clock", "_down", "_down_for", "_hosts", "_next", "policy")

    def __init__(
        self,
        hosts: Sequence[Host],
        policy: HostSelection = "first_available",
        *,
        down_for: float = DOWN_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not hosts:
            raise ValueError("a HostSet needs at least one host")
        self._hosts: tuple[Host, ...] = tuple(hosts)
        self.policy: HostSelection = policy
        self._down_for = down_for
        self._clock = clock
        self._down: dict[Host, float] = {}  # host -> clock() when it last failed
        self._next = itertools.count()

    @property
    def hosts(self) -> tuple[Host, ...]:
        return self._hosts

    def order(self) -> list[Host]:
        """The hosts to try for one new connection, best first."""
        hosts = self._hosts
        if self.policy == "round_robin":
            start = next(self._next) % len(hosts)
            hosts = hosts[start:] + hosts[:start]
        if not self._down:
            return list(hosts)
        now = self._clock()
        for host, since in list(self._down.items()):
            if now - since >= self._down_for:
                del self._down[host]
        up = [h for h in hosts if h not in self._down]
        return up + [h for h in hosts if h in self._down]

    def failed(self, host: Host) -> None:
        """``host`` refused or could not be reached: try it last for a while."""
        self._down[host] = self._clock()

    def succeeded(self, host: Host) -> None:
        self._down.pop(host, None)

    def down(self) -> list[Host]:
        """The hosts currently tried last (failed within ``down_for`` seconds)."""
        now = self._clock()
        return [h for h, since in self._down.items() if now - since < self._down_for]

    def __repr__(self) -> str:
        shown = ",".join(f"{h}:{p}" for h, p in self._hosts)
        return f"<HostSet {self.policy} {shown} down={self.down()}>"


def format_host(host: Host) -> str:
    """``host:port``, IPv6 in brackets."""
    name, port = host
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


__all__ = ["DOWN_FOR", "Host", "HostSelection", "HostSet", "format_host"]
