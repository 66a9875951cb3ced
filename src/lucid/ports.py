"""The seams between Lucid's use cases and the outside world, as typing.Protocol classes.

Use cases take these as arguments; `bootstrap` builds the real adapters behind them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lucid.contracts.events import ChainVerdict, NewEvent, RecordedEvent
from lucid.contracts.validity import Evaluation, MonitoringPolicy

if TYPE_CHECKING:
    from lucid.monitoring.profiles import ReferenceProfile
    from lucid.storage.event_log import SqlEventLog
    from lucid.storage.monitoring import RunRecord


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

    def verify(self) -> ChainVerdict: ...


ColumnKind = Literal["numeric", "categorical"]
"""How drift statistics treat a column: binned and ordered (numeric) or counted (categorical)."""


class ComputeEngine(Protocol):
    """Offline compute as SQL: tables registered by name, queries returning plain rows.

    The drift SQL is generated in `lucid.monitoring.queries` for the engine's `dialect`; the
    engine only registers inputs and runs text. DuckDB is the embedded default; a Spark
    adapter implements the same four methods.
    """

    dialect: str

    def register(self, name: str, source: object) -> None:
        """Make `source` (a Parquet or CSV path, an Arrow table, a pandas DataFrame) queryable
        as `name`."""
        ...

    def columns(self, name: str) -> dict[str, ColumnKind]: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


class MonitoringStore(Protocol):
    """Reference profiles (one per model version) and monitoring runs with every check."""

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool: ...

    def load_profile(self, model: str, version: str) -> ReferenceProfile: ...

    def record_run(
        self,
        policy: MonitoringPolicy,
        version: str,
        window: str,
        evaluation: Evaluation,
        *,
        measured_at: datetime,
        events: SqlEventLog | None = None,
        announce: Callable[[str], NewEvent] | None = None,
    ) -> tuple[RunRecord, bool]: ...

    def find_run(self, model: str, window: str) -> RunRecord | None: ...
