"""A Redis connection for an event loop: commands written at once, answers parsed by hiredis.

The serving path reads the online store on each worker's event loop, where a blocking round
trip to Redis holds up every other request of the worker. redis-py's asyncio client frees the
loop, but its connection pool, locks and pipeline objects cost more CPU per read than the
blocking client (`bench/serve.py`). Here one connection per loop is an `asyncio.Protocol`:
a batch of commands is one write, and hiredis (the parser redis-py uses too) hands back the
replies, which answer the waiting commands in the order they were sent.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.connection import SSLConnection, parse_url

NAME = "lucid-online-reads"
"""The connection's name in Redis's CLIENT LIST."""


class RedisPipeError(Exception):
    """The connection failed, timed out or Redis refused a command."""


class RedisPipe(asyncio.Protocol):
    """One connection on the running loop; `call` sends commands and awaits their replies."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._reader = hiredis.Reader()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._lost: Exception | None = None

    @classmethod
    async def open(cls, url: str, timeout: float) -> RedisPipe:
        """A connection to the Redis at `url` (redis://, rediss:// or unix://, with its user,
        password and database), authenticated and on its database."""
        options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                if "path" in options:
                    _, pipe = await loop.create_unix_connection(cls, options["path"])
                else:
                    secure = options.get("connection_class") is SSLConnection
                    _, pipe = await loop.create_connection(
                        cls,
                        options.get("host", "localhost"),
                        options.get("port", 6379),
                        ssl=ssl.create_default_context() if secure else None,
                    )
        except (OSError, TimeoutError) as error:
            raise RedisPipeError(str(error) or f"no connection within {timeout:g} s") from None
        setup: list[tuple[Any, ...]] = []
        if options.get("password") is not None:
            user, password = options.get("username"), options["password"]
            setup.append(("AUTH", user, password) if user else ("AUTH", password))
        if options.get("db"):
            setup.append(("SELECT", options["db"]))
        setup.append(("CLIENT", "SETNAME", NAME))
        try:
            await pipe.call(setup, timeout)
        except BaseException:
            pipe.close()
            raise
        return pipe

    @property
    def usable(self) -> bool:
        return self._transport is not None and self._lost is None

    async def call(self, commands: Sequence[Sequence[Any]], timeout: float) -> list[Any]:
        """The replies to `commands`, sent in one write; a connection that times out is closed
        (a late reply would answer the wrong command)."""
        if not self.usable:
            raise RedisPipeError(f"the connection is closed ({self._lost or 'closed'})")
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in commands]
        self._waiting.extend(futures)
        self._transport.write(b"".join(hiredis.pack_command(tuple(c)) for c in commands))
        try:
            async with asyncio.timeout(timeout):
                return [await future for future in futures]
        except BaseException as error:
            # Nobody awaits the other replies now: those to come are dropped, and a failure
            # already in is marked seen (else asyncio logs "exception was never retrieved").
            for future in futures:
                if not future.cancel() and not future.cancelled():
                    future.exception()
            if isinstance(error, TimeoutError):
                late = RedisPipeError(f"no reply within {timeout:g} s")
                self.close(late)
                raise late from None
            raise

    def close(self, reason: Exception | None = None) -> None:
        if self._transport is not None:
            self._transport.close()
        self._fail(reason or RedisPipeError("closed"))

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            future = self._waiting.popleft()
            if future.done():  # its caller gave up (cancelled)
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(RedisPipeError(str(reply)))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or RedisPipeError("the server closed the connection"))

    def _fail(self, reason: Exception) -> None:
        if self._lost is None:
            self._lost = reason
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(RedisPipeError(str(reason)))
