"""Online stores: the latest materialised value of each (feature version, entity).

Two adapters behind one small interface — SQLite (embedded default) and Redis (teams). Both
keep, per value, the time it was computed for (`as_of`, epoch seconds) and its data time (the
event time of the latest event behind it, epoch seconds; None for an empty window), so that
serving can refuse a value whose data is older than its feature's TTL.

Writes are monotonic: a stored value is replaced only by one computed for the same or a later
`as_of`, decided by the store itself in the write (SQLite's conditional upsert, a Redis
script), so two materialisations running at once leave the newest values whatever their
order. A value stored before data times were kept reads with none (stale under a TTL until
the next materialisation). Reads are the serving hot path: they use the bare
drivers, one statement or one round trip for any number of entities. `read_async` is the read
of a serving worker's event loop: Redis answers it on an asyncio connection, so the loop goes
on with other requests during the round trip; an SQLite file read takes microseconds and runs
on the loop as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from lucid.errors import ConfigurationError, StorageUnavailable
from lucid.extras import require
from lucid.ports.online import OnlineStore, Row, StoredValue
from lucid.storage.database import redact

if TYPE_CHECKING:
    from lucid.storage.redis_pipe import RedisPipe

REDIS_TIMEOUT_S = 5.0
"""How long a Redis connection or reply is waited for by default, in seconds."""


class SqliteOnlineStore:
    """An SQLite file; one row per (entity, feature), values in SQLite's own types."""

    reads_wait = False  # a page or two of a local file

    def __init__(self, path: Path) -> None:
        if not path.parent.is_dir():
            raise StorageUnavailable(f"The folder of the online store {path} does not exist.")
        self.path = path
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA busy_timeout=60000")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS online_values (entity TEXT NOT NULL, feature TEXT NOT "
            "NULL, value, as_of REAL NOT NULL, data_time REAL, PRIMARY KEY (entity, feature)) "
            "WITHOUT ROWID"
        )
        _add_data_time(self._connection)
        self._queries: dict[tuple[int, int], str] = {}

    def write(self, feature: str, rows: Iterable[Row]) -> int:
        count = 0
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            batch: list[tuple[str, str, Any, float, float | None]] = []
            for entity, value, as_of, data_time in rows:
                batch.append((str(entity), feature, value, as_of, data_time))
                if len(batch) >= 10_000:
                    cursor.executemany(_UPSERT, batch)
                    count += cursor.rowcount  # an upsert its condition refused changes nothing
                    batch.clear()
            if batch:
                cursor.executemany(_UPSERT, batch)
                count += cursor.rowcount
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return count

    def read(
        self, entities: Sequence[str], features: Sequence[str]
    ) -> dict[tuple[str, str], StoredValue]:
        query = self._query(len(entities), len(features))
        rows = self._connection.execute(query, (*entities, *features)).fetchall()
        return {
            (entity, feature): (value, as_of, data_time)
            for entity, feature, value, as_of, data_time in rows
        }

    async def read_async(
        self, entities: Sequence[str], features: Sequence[str]
    ) -> dict[tuple[str, str], StoredValue]:
        return self.read(entities, features)  # a page or two of a local file: no wait to share

    def _query(self, entities: int, features: int) -> str:
        query = self._queries.get((entities, features))
        if query is None:
            query = (
                "SELECT entity, feature, value, as_of, data_time FROM online_values "
                f"WHERE entity IN ({', '.join('?' * entities)}) "
                f"AND feature IN ({', '.join('?' * features)})"
            )
            self._queries[(entities, features)] = query
        return query

    def clear(self) -> None:
        self._connection.execute("DELETE FROM online_values")

    def close(self) -> None:
        self._connection.close()


_UPSERT = (
    "INSERT INTO online_values (entity, feature, value, as_of, data_time) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (entity, feature) DO UPDATE SET value = excluded.value, "
    "as_of = excluded.as_of, data_time = excluded.data_time "
    "WHERE excluded.as_of >= online_values.as_of"
)


def _add_data_time(connection: sqlite3.Connection) -> None:
    """Give a store file created before data times were kept its `data_time` column (NULL:
    no known data time); another process opening the file at once may add it first."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(online_values)")}
    if "data_time" not in columns:
        try:
            connection.execute("ALTER TABLE online_values ADD COLUMN data_time REAL")
        except sqlite3.OperationalError as error:
            if "duplicate column" not in str(error):
                raise


class RedisOnlineStore:
    """One Redis hash per entity: field `feature` holds the JSON value, `feature#t` its as_of
    and data time, `"<as_of> <data time>"` (only `"<as_of>"` for no data time): one field
    more per feature would cost every read."""

    reads_wait = True  # a round trip to the server

    def __init__(self, url: str, namespace: str, *, timeout_s: float = REDIS_TIMEOUT_S) -> None:
        require("redis", "redis", "a Redis online_store_url")
        require("hiredis", "redis", "a Redis online_store_url")  # its reads on an event loop
        import redis  # imported here: only Redis deployments need it

        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._timeout_s = timeout_s
        self._prefix = f"lucid:{namespace}:"
        self._url = url
        self._shown_url = redact(url)  # in error sentences: no password
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._write_newer = self._client.register_script(_WRITE_NEWER)
        # The connection of the event loop that last awaited a read (a serving worker has one
        # loop; a connection cannot be used from another), and the opening of the next one.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pipe: RedisPipe | None = None
        self._opening: asyncio.Task[RedisPipe] | None = None
        try:
            self._client.ping()
        except self._errors as error:
            raise StorageUnavailable(
                f"Cannot reach the online store at {self._shown_url}: {error}"
            ) from None

    def _key(self, entity: str) -> str:
        return self._prefix + entity

    def write(self, feature: str, rows: Iterable[Row]) -> int:
        count = 0
        pipeline = self._client.pipeline(transaction=False)
        for sent, (entity, value, as_of, data_time) in enumerate(rows, start=1):
            self._write_newer(
                keys=[self._key(str(entity))],
                args=[feature, json.dumps(value), repr(float(as_of)), _times(as_of, data_time)],
                client=pipeline,
            )
            if sent % 10_000 == 0:
                count += sum(pipeline.execute())
        count += sum(pipeline.execute())
        return int(count)

    def read(
        self, entities: Sequence[str], features: Sequence[str]
    ) -> dict[tuple[str, str], StoredValue]:
        fields = _fields(features)
        try:
            if len(entities) == 1:
                answers = [self._client.hmget(self._key(entities[0]), fields)]
            else:
                pipeline = self._client.pipeline(transaction=False)
                for entity in entities:
                    pipeline.hmget(self._key(entity), fields)
                answers = pipeline.execute()
        except self._errors as error:
            raise self._unavailable(error) from None
        return _found(entities, features, answers)

    async def read_async(
        self, entities: Sequence[str], features: Sequence[str]
    ) -> dict[tuple[str, str], StoredValue]:
        from lucid.storage.redis_pipe import RedisPipeError

        fields = _fields(features)
        try:
            pipe = await self._pipe_of_this_loop()
            answers = await pipe.call(
                [("HMGET", self._key(entity), *fields) for entity in entities], self._timeout_s
            )
        except RedisPipeError as error:
            raise self._unavailable(error) from None
        return _found(entities, features, answers)

    async def _pipe_of_this_loop(self) -> RedisPipe:
        from lucid.storage.redis_pipe import RedisPipe

        loop = asyncio.get_running_loop()
        if self._pipe is None or self._loop is not loop or not self._pipe.usable:
            if self._opening is None or self._loop is not loop:
                self._loop = loop
                self._opening = loop.create_task(RedisPipe.open(self._url, self._timeout_s))
            opening = self._opening
            try:
                self._pipe = await opening
            finally:
                if self._opening is opening:
                    self._opening = None
        return self._pipe

    def _unavailable(self, error: Exception) -> StorageUnavailable:
        return StorageUnavailable(f"Cannot read the online store at {self._shown_url}: {error}")

    def clear(self) -> None:
        for key in self._client.scan_iter(match=self._prefix + "*", count=1000):
            self._client.delete(key)

    def close(self) -> None:
        self._client.close()
        if self._pipe is not None:
            with contextlib.suppress(RuntimeError):  # its loop has closed it already
                self._pipe.close()


_WRITE_NEWER = """
local stored = redis.call('HGET', KEYS[1], ARGV[1] .. '#t')
if stored and tonumber(string.match(stored, '^%S+')) > tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[1] .. '#t', ARGV[4])
return 1
"""
"""Store one value in an entity's hash unless a later as_of is stored: KEYS = the hash;
ARGV = feature, JSON value, as_of, the `#t` text. Redis runs a script atomically."""


def _times(as_of: float, data_time: float | None) -> str:
    """The `#t` field: as_of and data time, or as_of alone (as hashes written before data
    times were kept hold it)."""
    if data_time is None:
        return repr(float(as_of))
    return f"{float(as_of)!r} {float(data_time)!r}"


def _fields(features: Sequence[str]) -> list[str]:
    return [name for feature in features for name in (feature, f"{feature}#t")]


def _found(
    entities: Sequence[str], features: Sequence[str], answers: Sequence[Sequence[Any]]
) -> dict[tuple[str, str], StoredValue]:
    """The stored pairs of HMGET answers (one per entity, fields as `_fields` lists them)."""
    found: dict[tuple[str, str], StoredValue] = {}
    for entity, values in zip(entities, answers, strict=True):
        for index, feature in enumerate(features):
            raw, times = values[2 * index], values[2 * index + 1]
            if raw is not None and times is not None:
                as_of, _, data_time = times.partition(b" ")
                found[(entity, feature)] = (
                    json.loads(raw),
                    float(as_of),
                    float(data_time) if data_time else None,
                )
    return found


def open_online_store(url: str, namespace: str) -> OnlineStore:
    """The online store a URL names: `sqlite:///path` or `redis://host:port/db`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url.removeprefix("sqlite:///")
        if not path or path == url:
            raise ConfigurationError(f"online_store_url {url!r} must be sqlite:///path/to/file.db")
        return SqliteOnlineStore(Path(path))
    if parsed.scheme in ("redis", "rediss", "unix"):
        return RedisOnlineStore(url, namespace)
    raise ConfigurationError(
        f"online_store_url {url!r} must be sqlite:///path or redis://host:port/db"
    )


@contextlib.contextmanager
def scratch_online_store() -> Iterator[OnlineStore]:
    """An empty SQLite online store in a temporary folder, removed when the block ends."""
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteOnlineStore(Path(folder) / "online.db")
        try:
            yield store
        finally:
            store.close()
