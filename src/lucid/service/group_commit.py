"""The journal of a serving worker: each answered prediction is durable before its answer.

`PredictionJournal` is a group commit: each request hands it what its prediction must log
(the feature values served, for skew; the prediction, for monitoring; the exposure, for a
running experiment; the challenger's score, for a running shadow comparison) and waits;
everything waiting is stored in one transaction, then the requests are answered. An answer
therefore means a stored log, and under load one commit serves many predictions.

A commit's cost is mostly its own, not its rows' (`bench/serve.py`): the journal therefore
waits, up to `GATHER_S`, for the requests of the worker already being predicted to hand in
theirs, so they share the commit. A lone request waits for nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from lucid.errors import Conflict, LucidError, StorageUnavailable
from lucid.storage.prediction_journal import SqlPredictionJournal

if TYPE_CHECKING:
    from lucid.bootstrap import Lucid

SERVING_EVENTS = (
    "ModelPromoted",
    "ModelRolledBack",
    "ModelArchived",
    "ExperimentCreated",
    "ExperimentConcluded",
    "ShadowStarted",
    "ShadowConcluded",
    "TokenRevoked",
    "FeatureDeprecated",
    "SourceRegistered",  # a new listing source makes ids unknown
)
"""The event types that change what a worker may serve or who may ask."""

GATHER_S = 0.001
"""How long, at most, a commit waits for the requests being predicted to join it, in s."""


@dataclass
class Entry:
    """What one request (one entity or a batch) must log before it is answered."""

    served: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    exposure: tuple[str, str, list[dict[str, Any]]] | None = None
    """(experiment id, actor, exposure rows) when a running experiment routed the request."""
    shadow: list[dict[str, Any]] = field(default_factory=list)
    """The challenger's shadow scores ({comparison_id, prediction_id, score}) when a running
    shadow comparison scored the request; stored like the predictions, without an event."""


@dataclass(slots=True)
class Expected:
    """A request the journal expects an entry from, until it logs or settles."""

    coming: bool = True


class PredictionJournal:
    """Stores what waiting requests logged, many requests per commit, one commit at a time.

    On SQLite the commit runs on the worker's event loop: it takes tens of microseconds,
    where handing it to a thread made it wait milliseconds for the interpreter lock. While
    another process's writer holds the database (the other worker's commit), the loop runs
    its other requests between two tries of the writers' turn (`Database.writer_turn`), and
    what they hand in meanwhile joins the commit. On
    PostgreSQL, whose commit waits on the network, it runs on a thread. Requests arriving
    during a commit wait for the next, which takes them all."""

    def __init__(self, lucid: Lucid) -> None:
        self._lucid = lucid
        self._store_rows = SqlPredictionJournal(lucid.db, SERVING_EVENTS)
        self._waiting: list[tuple[Entry, asyncio.Future[None]]] = []
        self._storing: asyncio.Task[None] | None = None
        self._coming = 0  # requests being predicted that have not handed in their entry
        self._gathered: asyncio.Future[None] | None = None

    def expect(self) -> Expected:
        """Say a request is being predicted: a commit waits a little for its entry. The
        request then logs with it, or `settle`s it when it will not log."""
        self._coming += 1
        return Expected()

    def settle(self, expected: Expected) -> None:
        """The request of `expected` hands in no more entries."""
        if expected.coming:
            expected.coming = False
            self._coming -= 1
            if self._coming == 0 and self._gathered is not None and not self._gathered.done():
                self._gathered.set_result(None)

    async def log(self, entry: Entry, expected: Expected | None = None) -> None:
        """Return once the entry is committed; raise why it was not."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((entry, done))
        if expected is not None:
            self.settle(expected)
        if self._storing is None:
            # Runs after the requests already ready in this turn of the loop: they join.
            self._storing = loop.create_task(self._store())
        await done

    async def close(self) -> None:
        """Wait for what is being stored."""
        if self._storing is not None:
            await self._storing

    async def _store(self) -> None:
        try:
            while self._waiting:
                if self._coming:
                    await self._gather()
                if self._lucid.db.is_sqlite:
                    batch, failures = await self._committed_in_turn()
                else:
                    batch, self._waiting = self._waiting, []
                    entries = [entry for entry, _ in batch]
                    failures = await to_thread.run_sync(self._committed, entries)
                for (_, done), failure in zip(batch, failures, strict=True):
                    if not done.done():  # a request whose client left is cancelled
                        if failure is None:
                            done.set_result(None)
                        else:
                            done.set_exception(failure)
        finally:
            self._storing = None

    async def _committed_in_turn(
        self,
    ) -> tuple[list[tuple[Entry, asyncio.Future[None]]], list[Exception | None]]:
        """SQLite: the writers' turn, waited for on the loop (what is handed in meanwhile
        joins), then what waits committed on the loop; the batch and each entry's failure."""
        batch: list[tuple[Entry, asyncio.Future[None]]] = []
        try:
            async with self._lucid.db.writer_turn():
                batch, self._waiting = self._waiting, []
                return batch, self._committed([entry for entry, _ in batch])
        except Exception as error:  # the turn did not come (StorageUnavailable)
            if not batch:
                batch, self._waiting = self._waiting, []
            return batch, [error] * len(batch)

    async def _gather(self) -> None:
        """Wait until no request being predicted is left to hand in its entry, or `GATHER_S`."""
        loop = asyncio.get_running_loop()
        gathered = self._gathered = loop.create_future()

        def late() -> None:
            if not gathered.done():
                gathered.set_result(None)

        timer = loop.call_later(GATHER_S, late)
        try:
            await gathered
        finally:
            timer.cancel()
            self._gathered = None

    def _committed(self, entries: list[Entry]) -> list[Exception | None]:
        """Store the entries in one commit; each entry's failure, None once it is stored.

        When the database refuses the group for one of its rows, each entry is stored again
        alone, so the row fails its own request and no other. A database that cannot be
        reached answers every entry at once."""
        try:
            refused = self._write(entries)
        except StorageUnavailable as error:
            return [error] * len(entries)
        except Exception as error:  # a row refused (translated or not): find which
            if len(entries) == 1:
                return [error]  # a LucidError answers its sentence; anything else a 500
            return [failure for entry in entries for failure in self._committed([entry])]
        return [refused.get(id(entry)) for entry in entries]

    def _write(self, batch: list[Entry]) -> dict[int, LucidError]:
        exposed: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for entry in batch:
            if entry.exposure is not None:
                exposed[entry.exposure[:2]].append(entry)
        if not exposed:  # the common case, on the bare driver
            self._store_rows.write(*_rows(batch))
            return {}
        refused: dict[int, LucidError] = {}
        # Exposures append an event: one unit of work holds the rows and the events.
        with self._lucid.uows() as uow:
            for (experiment_id, actor), entries in exposed.items():
                exposures = [
                    row
                    for entry in entries
                    if entry.exposure is not None
                    for row in entry.exposure[2]
                ]
                try:
                    self._lucid.experiments.expose(experiment_id, exposures, actor=actor)
                except Conflict as error:  # the experiment ended after the routing
                    refused.update(
                        (id(entry), Conflict(f"{error.sentence} Ask again.")) for entry in entries
                    )
            kept = [entry for entry in batch if id(entry) not in refused]
            self._store_rows.write_in(uow.connection, *_rows(kept))
        return refused


def _rows(
    batch: list[Entry],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The served values, the predictions and the shadow scores the entries log."""
    served = [row for entry in batch for row in entry.served]
    predictions = [row for entry in batch for row in entry.predictions]
    shadow = [row for entry in batch for row in entry.shadow]
    return served, predictions, shadow
