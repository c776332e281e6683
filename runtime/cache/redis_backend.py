"""A query cache shared by every process that points at one Redis: versioned table keys.

Each table of each database has a version in Redis. An entry records the versions of the
tables it read, taken *before* the database read, and is served only while they are all
unchanged; a write changes the versions of its tables before it returns (and again when
its outermost transaction ends). So a write in one process makes every other process's
next lookup miss, with nothing to deliver and no race: the check and the read of the
entry are one Lua script, one round trip. Entries are not deleted by writes; they are
overwritten by the next fresh result or expire with their TTL.

Versions per database (``{db}`` is a digest of the manager's masked URL):

- ``{prefix}epoch``: every database (``clear()`` of all of them);
- ``{prefix}{db}:v:*``: the whole database (raw SQL and schema writes, ``clear(db)``);
- ``{prefix}{db}:v:+``: any write, read by entries whose query has a raw fragment;
- ``{prefix}{db}:v:t:{table}``: one table.

A missing version starts at a random 62-bit number (not 0), so a version key that was
evicted or lost never comes back with a value an old entry recorded.

When Redis does not answer within ``timeout``, the call gives up: a read goes to the
database (not stored), a write still commits and remembers the versions it could not
change. A warning is logged once per outage; Redis is tried again after ``retry_after``
seconds, and before this process uses an entry again it replays those version changes
(a background task retries them too), so it never serves a result older than its own
writes. Rows are stored as tagged JSON (``codec``), never pickled.

>>> backend = RedisCacheBackend("redis://127.0.0.1:6379/0", prefix="app1:")
>>> db = DatabaseManager(url=url, cache_backend=backend)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from ..errors import ConfigurationError
from ..masking import SecretUrl, _url_secrets, redact
from .backend import ANY_TABLE, CacheKey, Lookup, Row
from .codec import Uncacheable, decode_rows, encode_rows, key_digest
from .tables import table_keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("jadugar.cache")

T = TypeVar("T")

# KEYS[1]: the entry; KEYS[2..]: the versions it depends on; ARGV[1]: a fresh version
_LOOKUP = """
local n = #KEYS
local current = {}
for i = 2, n do
  local v = redis.call('GET', KEYS[i])
  if not v then
    v = ARGV[1]
    redis.call('SET', KEYS[i], v)
  end
  current[i - 1] = v
end
local stamp = table.concat(current, ' ')
local entry = redis.call('GET', KEYS[1])
if entry then
  local cut = string.find(entry, '\\n', 1, true)
  if cut and string.sub(entry, 1, cut - 1) == stamp then
    return {1, string.sub(entry, cut + 1), stamp}
  end
end
return {0, '', stamp}
"""

# KEYS: versions to change; ARGV[1]: the start of a version that does not exist yet
_BUMP = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCR', KEYS[i])
  else
    redis.call('SET', KEYS[i], ARGV[1])
  end
end
return #KEYS
"""

_MISS = Lookup(None, None)


def _fresh_version() -> str:
    return str(secrets.randbits(62))


class RedisCacheBackend:
    """Query results in Redis, shared by every process using the same ``prefix``.

    ``url``: ``redis://[user:password@]host[:port][/db]``, ``rediss://`` (TLS) or
    ``unix://path``; ``timeout``: seconds each Redis call may take before the read goes
    uncached; ``retry_after``: seconds before Redis is tried again after a failure.
    One Redis server (or a primary), not Redis Cluster: a lookup's keys span databases'
    slots.

    >>> RedisCacheBackend("redis://:s3cret@cache:6379/0")
    <RedisCacheBackend redis://:***@cache:6379/0 prefix='jadugar:'>
    """

    def __init__(
        self,
        url: str | SecretUrl,
        *,
        prefix: str = "jadugar:",
        timeout: float = 0.25,
        retry_after: float = 1.0,
    ) -> None:
        try:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:
            raise ConfigurationError(
                "cache.backend: a Redis cache needs the redis package: "
                "pip install 'jadugar[redis]'",
                field="cache.backend",
            ) from exc

        self._url = url if isinstance(url, SecretUrl) else SecretUrl(url)
        self.url_masked = self._url.masked
        self.prefix = prefix
        self.timeout = timeout
        self.retry_after = retry_after
        self._secrets = _url_secrets(self._url.get_secret_value())
        self._client: Redis = redis.asyncio.Redis.from_url(
            self._url.get_secret_value(),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),  # once more on a new connection (a restart)
        )
        self._lookup_script = self._client.register_script(_LOOKUP)
        self._bump_script = self._client.register_script(_BUMP)
        self._errors: tuple[type[BaseException], ...] = (
            redis.RedisError,
            OSError,
            TimeoutError,
        )
        self.failures = 0  # Redis calls that failed or timed out
        self._down = False  # in an outage (warned once)
        self._retry_at = 0.0  # monotonic seconds: Redis is not tried before
        # versions whose change failed -> the failure's number (newer failures win)
        self._pending: dict[str, int] = {}
        self._failure_seq = 0
        self._replayer: asyncio.Task[None] | None = None
        self._read_keys: dict[tuple[str, frozenset[str]], list[str]] = {}
        self._namespaces: dict[str, str] = {}
        self._tables_of_sql: dict[str, frozenset[str]] = {}  # for the plain get()

    def __repr__(self) -> str:
        return f"<RedisCacheBackend {self.url_masked} prefix={self.prefix!r}>"

    @property
    def available(self) -> bool:
        """False during an outage (until Redis answers again and every pending version
        change has been replayed)."""
        return not self._down and not self._pending

    # ---- lifecycle ------------------------------------------------------------------
    async def connect(self) -> None:
        """Ping Redis: unreachable, a warning (reads go uncached), never an error."""
        try:
            await self._run(self._client.ping)
        except self._errors as exc:
            self._failed("connecting", exc)
        else:
            self._recovered()

    async def close(self) -> None:
        replayer, self._replayer = self._replayer, None
        if replayer is not None:
            replayer.cancel()
        with contextlib.suppress(*self._errors):  # closing a broken connection
            await self._client.aclose()

    # ---- reads ----------------------------------------------------------------------
    async def lookup(self, key: CacheKey, tables: frozenset[str]) -> Lookup:
        if not await self._ready():
            return _MISS
        try:
            entry = self._entry_key(key)
        except Uncacheable:
            return _MISS
        versions = self._versions_read(key.database, tables)
        try:
            answer = await self._run(
                lambda: self._lookup_script(keys=[entry, *versions], args=[_fresh_version()])
            )
        except self._errors as exc:
            self._failed("looking up an entry", exc)
            return _MISS
        if self._down:
            self._recovered()
        try:
            found, payload, stamp = answer
            stamp_text = stamp.decode("ascii")
            if found != 1:
                return Lookup(None, stamp_text)
            return Lookup(decode_rows(payload), None)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            log.warning("query cache: unreadable entry %s in Redis (%s): read again", entry, exc)
            return _MISS

    async def store(self, key: CacheKey, rows: list[Row], stamp: str, ttl: float | None) -> None:
        if self._pending or self._retry_at > time.monotonic():
            return
        try:
            entry = self._entry_key(key)
            value = f"{stamp}\n{encode_rows(rows)}".encode()
        except Uncacheable:
            return
        px = None if ttl is None else max(1, int(ttl * 1000))
        try:
            await self._run(lambda: self._client.set(entry, value, px=px))
        except self._errors as exc:
            self._failed("storing an entry", exc)

    async def get(self, key: CacheKey) -> list[Row] | None:
        """The ``CacheBackend`` form of ``lookup``, for statements this backend has seen
        stored (it needs their tables); ``QueryCache`` calls ``lookup`` itself."""
        tables = self._tables_of_sql.get(key.sql)
        return None if tables is None else (await self.lookup(key, tables)).rows

    async def set(
        self, key: CacheKey, rows: list[Row], tables: frozenset[str], ttl: float | None
    ) -> None:
        """The ``CacheBackend`` form of ``store``: the versions are taken now, after the
        caller's read, so a write made in between may go unseen until ``ttl``; ``QueryCache``
        calls ``lookup`` before reading and ``store`` after, which has no such gap."""
        if len(self._tables_of_sql) > 4096:
            self._tables_of_sql.clear()
        self._tables_of_sql[key.sql] = tables
        stamp = (await self.lookup(key, tables)).stamp
        if stamp is not None:
            await self.store(key, rows, stamp, ttl)

    def entry_count(self) -> int | None:
        return None  # a shared store: counting would scan it

    # ---- writes ---------------------------------------------------------------------
    async def invalidate(self, database: str, tables: Iterable[str]) -> int:
        """Change the versions of ``tables`` (``ANY_TABLE``: of the whole database). Returns
        0: entries are left to expire, not counted or dropped."""
        names = table_keys(tables)
        space = self._namespace(database)
        if ANY_TABLE in names:
            keys = [f"{space}:v:*"]
        else:
            keys = [f"{space}:v:t:{name}" for name in sorted(names)]
            keys.append(f"{space}:v:+")
        await self._bump(keys)
        return 0

    async def clear(self, database: str | None = None) -> int:
        key = f"{self.prefix}epoch" if database is None else f"{self._namespace(database)}:v:*"
        await self._bump([key])
        return 0

    async def _bump(self, keys: list[str]) -> None:
        if self._retry_at > time.monotonic():
            self._remember(keys)
            return
        pending = dict(self._pending)
        wanted = sorted({*keys, *pending})
        try:
            await self._run(lambda: self._bump_script(keys=wanted, args=[_fresh_version()]))
        except self._errors as exc:
            self._remember(keys)
            self._failed("invalidating", exc)
            return
        self._replayed(pending)

    def _remember(self, keys: list[str]) -> None:
        self._failure_seq += 1
        for key in keys:
            self._pending[key] = self._failure_seq
        if self._replayer is None or self._replayer.done():
            self._replayer = asyncio.get_running_loop().create_task(self._replay_later())

    async def _replay_later(self) -> None:
        while self._pending:
            await asyncio.sleep(self.retry_after)
            await self._replay()

    async def _replay(self) -> bool:
        """Change every version a failed write could not; True once none is left."""
        pending = dict(self._pending)
        if not pending:
            return True
        try:
            await self._run(
                lambda: self._bump_script(keys=sorted(pending), args=[_fresh_version()])
            )
        except self._errors as exc:
            self._failed("replaying invalidations", exc)
            return False
        self._replayed(pending)
        return not self._pending

    def _replayed(self, done: dict[str, int]) -> None:
        """Forget the pending changes in ``done`` (not those of a failure since)."""
        for key, seq in done.items():
            if self._pending.get(key) == seq:
                del self._pending[key]
        self._recovered()

    # ---- outages --------------------------------------------------------------------
    async def _ready(self) -> bool:
        """Redis may be used: not paused after a failure, and nothing left to replay."""
        if self._retry_at > time.monotonic():
            return False
        if self._pending:
            return await self._replay()
        return True

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        async with asyncio.timeout(self.timeout):
            return await call()

    def _failed(self, doing: str, exc: BaseException) -> None:
        self.failures += 1
        self._retry_at = time.monotonic() + self.retry_after
        if self._down:
            return
        self._down = True
        reason = redact(f"{type(exc).__name__}: {exc}".rstrip(": "), self._secrets)
        log.warning(
            "query cache: Redis at %s failed while %s (%s); .cache() reads go to the "
            "database uncached until it answers again",
            self.url_masked,
            doing,
            reason,
        )

    def _recovered(self) -> None:
        if self._down and not self._pending:
            self._down = False
            log.warning("query cache: Redis at %s answers again; caching resumed", self.url_masked)

    # ---- key names ------------------------------------------------------------------
    def _namespace(self, database: str) -> str:
        space = self._namespaces.get(database)
        if space is None:
            digest = hashlib.sha256(database.encode("utf-8")).hexdigest()[:16]
            space = self._namespaces[database] = f"{self.prefix}{digest}"
        return space

    def _entry_key(self, key: CacheKey) -> str:
        return f"{self._namespace(key.database)}:e:{key_digest(key)}"

    def _versions_read(self, database: str, tables: frozenset[str]) -> list[str]:
        found = self._read_keys.get((database, tables))
        if found is None:
            space = self._namespace(database)
            found = [f"{self.prefix}epoch", f"{space}:v:*"]
            if ANY_TABLE in tables:
                found.append(f"{space}:v:+")
            found.extend(f"{space}:v:t:{t}" for t in sorted(tables - {ANY_TABLE}))
            if len(self._read_keys) > 4096:
                self._read_keys.clear()
            self._read_keys[(database, tables)] = found
        return found
