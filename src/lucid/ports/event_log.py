"""The port of the event log: append-only, hash-chained memory of every decision."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from lucid.contracts.events import ChainVerdict, NewEvent, RecordedEvent
from lucid.contracts.log_checkpoints import Anchor
from lucid.contracts.log_state import StateFold


class EventLog(Protocol):
    """Append-only memory of every decision: append, read with a cursor, verify the chain."""

    def append(self, new: NewEvent) -> RecordedEvent: ...

    def append_many(self, news: Sequence[NewEvent]) -> list[RecordedEvent]: ...

    def read(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        type: str | None = None,
        subject: str | None = None,
    ) -> list[RecordedEvent]: ...

    def scan(self, batch: int = 10_000) -> Iterator[RecordedEvent]: ...

    def count(self) -> int: ...

    def verify(
        self, anchors: Iterable[Anchor] = (), *, state: StateFold | None = None
    ) -> ChainVerdict:
        """Recompute every hash and link, compare with `anchors`; `state` folds the events."""
        ...
