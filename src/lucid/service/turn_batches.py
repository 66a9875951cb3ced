"""Requests of one turn of a worker's event loop, answered by one call per key."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


class TurnBatches(Generic[K, I, R]):
    """What the requests of one turn of a worker's event loop ask under the same key, answered
    by one call of `answer(key, items)`, which returns one result per item, in order. The
    model is called once for the rows waiting for one version (scikit-learn spends far longer
    checking its input than computing one row); the online store is read once, in one round
    trip, for the entities waiting for one list of features. A lone request waits for no
    other; requests arriving while a call is awaited form the next batch.

    An answer that does not wait (the model, a local file) is returned by `answer` itself and
    given to the requests in the callback that calls it; one that waits (a network round
    trip) is returned as an awaitable, awaited by a task of its own. Each step between a
    request and its answer is a turn of the loop, which under load lasts a millisecond or
    more: the task would add one (`bench/serve.py`)."""

    def __init__(
        self, answer: Callable[[K, list[I]], Sequence[R] | Awaitable[Sequence[R]]]
    ) -> None:
        self._answer = answer
        self._waiting: dict[K, list[tuple[I, asyncio.Future[R]]]] = {}
        self._calls: set[asyncio.Task[None]] = set()  # referenced until done

    async def ask(self, key: K, item: I) -> R:
        """The answer to `item`, from the call of its batch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = []
            loop.call_soon(self._call, key)  # after the requests already ready this turn
        waiting.append((item, future))
        return await future

    async def ask_many(self, key: K, items: Sequence[I]) -> list[R]:
        """The answers to `items`, in order, from the call of their batch (one call, with
        whatever else waits under `key` in this turn)."""
        if len(items) == 1:
            return [await self.ask(key, items[0])]
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[R]] = [loop.create_future() for _ in items]
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = []
            loop.call_soon(self._call, key)
        waiting.extend(zip(items, futures, strict=True))
        return list(await asyncio.gather(*futures))

    def _call(self, key: K) -> None:
        batch = self._waiting.pop(key)
        try:
            answered = self._answer(key, [item for item, _ in batch])
        except Exception as error:  # each request answers with it
            _fail(batch, error)
            return
        if not inspect.isawaitable(answered):
            _settle(batch, answered)
            return
        call = asyncio.get_running_loop().create_task(_awaited(batch, answered))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)


async def _awaited(
    batch: list[tuple[I, asyncio.Future[R]]], answer: Awaitable[Sequence[R]]
) -> None:
    try:
        results = await answer
    except Exception as error:
        _fail(batch, error)
        return
    _settle(batch, results)


def _settle(batch: list[tuple[I, asyncio.Future[R]]], results: Sequence[R]) -> None:
    if len(results) != len(batch):
        _fail(batch, RuntimeError(f"{len(results)} answers to a batch of {len(batch)}"))
        return
    for (_, future), result in zip(batch, results, strict=True):
        if not future.done():  # a request whose client left is cancelled
            future.set_result(result)


def _fail(batch: list[tuple[I, asyncio.Future[R]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
