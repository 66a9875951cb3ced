"""The floor of `bench/serve.py`: a bare ASGI app doing a prediction's work and nothing else.

Per `POST /v1/predict/<model>` with `{"entity_id": ...}`: the bearer token compared with the
one secret, the entity's pinned feature values read from the same online store as Lucid's
(one SQLite statement on the bare driver, or one HMGET on a raw hiredis connection), the same
scikit-learn model called on them (an entity without a value: 0, the features' empty
value), a prediction row and the served values written to an
SQLite log (WAL, synchronous=NORMAL, the requests of one turn of the loop in one commit,
every request answered after its commit), and the answer in JSON. No framework, no
validation beyond the entity id, no metrics, no cache invalidation.

Run by `bench/serve.py` under uvicorn with Lucid's flags:
`uvicorn --factory serve_floor:app`, configured by `$LUCID_SERVE_FLOOR` (JSON: token,
features, model pickle, log path, and `sqlite` (a path) or `redis` (host, port, db, prefix)).
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import hiredis

CONFIG_ENV = "LUCID_SERVE_FLOOR"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_LOG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS predictions (id TEXT PRIMARY KEY, model TEXT, entity TEXT, "
    "served_at REAL, features TEXT, score REAL)",
    "CREATE TABLE IF NOT EXISTS served (entity TEXT, feature TEXT, value, as_of REAL, "
    "served_at REAL)",
)


class Log:
    """Rows written by the requests of one turn of the loop, in one commit."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        for statement in _LOG_SCHEMA:
            self._db.execute(statement)
        self._waiting: list[tuple[tuple[Any, ...], list[tuple[Any, ...]], asyncio.Future[None]]]
        self._waiting = []

    async def write(self, prediction: tuple[Any, ...], served: list[tuple[Any, ...]]) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._commit)
        self._waiting.append((prediction, served, done))
        await done

    def _commit(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?)", [row for row, _, _ in batch]
            )
            self._db.executemany(
                "INSERT INTO served VALUES (?, ?, ?, ?, ?)",
                [value for _, served, _ in batch for value in served],
            )
            self._db.execute("COMMIT")
        except Exception as error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            for _, _, done in batch:
                done.set_exception(error)
            return
        for _, _, done in batch:
            if not done.done():
                done.set_result(None)


class SqliteValues:
    def __init__(self, path: str, features: list[str]) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._sql = (
            "SELECT feature, value, as_of FROM online_values WHERE entity = ? "
            f"AND feature IN ({', '.join('?' * len(features))})"
        )
        self._features = features

    async def read(self, entity: str) -> dict[str, tuple[Any, float]]:
        rows = self._db.execute(self._sql, (entity, *self._features)).fetchall()
        return {feature: (value, as_of) for feature, value, as_of in rows}


class RedisValues(asyncio.Protocol):
    """One raw connection: HMGET of the entity's hash, replies parsed by hiredis."""

    def __init__(self, prefix: str, features: list[str]) -> None:
        self._prefix = prefix
        self._features = features
        self._fields = [name for feature in features for name in (feature, f"{feature}#t")]
        self._reader = hiredis.Reader()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            self._waiting.popleft().set_result(reply)

    async def read(self, entity: str) -> dict[str, tuple[Any, float]]:
        assert self._transport is not None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        self._transport.write(hiredis.pack_command(("HMGET", self._prefix + entity, *self._fields)))
        reply = await future
        found = {}
        for index, feature in enumerate(self._features):
            raw, times = reply[2 * index], reply[2 * index + 1]
            if raw is not None:
                found[feature] = (json.loads(raw), float(times.split(b" ")[0]))
        return found


def app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    config = json.loads(os.environ[CONFIG_ENV])
    expected = f"Bearer {config['token']}".encode()
    features: list[str] = config["features"]
    model = pickle.loads(Path(config["model"]).read_bytes())
    log = Log(config["log"])
    values: SqliteValues | RedisValues | None = (
        SqliteValues(config["sqlite"], features) if "sqlite" in config else None
    )

    async def reader() -> SqliteValues | RedisValues:
        nonlocal values
        if values is None:
            redis = config["redis"]
            loop = asyncio.get_running_loop()
            _, pipe = await loop.create_connection(
                lambda: RedisValues(redis["prefix"], features), redis["host"], redis["port"]
            )
            if redis["db"]:
                pipe._waiting.append(loop.create_future())  # the SELECT's reply, dropped
                pipe._transport.write(hiredis.pack_command(("SELECT", redis["db"])))
            values = pipe
        return values

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/healthz":
            await _send(send, 200, b'{"status":"ok"}')
            return
        message = await receive()
        body = message.get("body", b"")
        while message.get("more_body"):
            message = await receive()
            body += message.get("body", b"")
        if dict(scope["headers"]).get(b"authorization") != expected:
            await _send(send, 401, b'{"detail":"token"}')
            return
        try:
            entity = json.loads(body)["entity_id"]
            if not isinstance(entity, str):
                raise TypeError(entity)
        except (ValueError, KeyError, TypeError):
            await _send(send, 422, b'{"detail":"entity_id"}')
            return
        served_at = time.time()
        found = await (await reader()).read(entity)
        for feature in features:  # no event in the window: both features' empty value
            found.setdefault(feature, (0.0, served_at))
        row = [found[feature][0] for feature in features]
        score = float(model.predict_proba([row])[0][1])
        prediction_id = uuid.uuid4().hex
        inputs = dict(zip(features, row, strict=True))
        await log.write(
            (prediction_id, scope["path"][12:], entity, served_at, json.dumps(inputs), score),
            [(entity, f, found[f][0], found[f][1], served_at) for f in features],
        )
        await _send(
            send,
            200,
            json.dumps(
                {
                    "model": scope["path"][12:],
                    "entity_id": entity,
                    "version": 1,
                    "inputs": inputs,
                    "prediction": int(score >= 0.5),
                    "score": score,
                    "prediction_id": prediction_id,
                }
            ).encode(),
        )

    return answer


async def _send(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
