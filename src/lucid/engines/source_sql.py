"""The SQL of a source's data health, generated in one place for every engine.

Written in DuckDB's syntax, like `lucid.engines.drift_sql` (whose `Dialect` gives the
usable-number test), and run on Spark through `to_dialect`. One scan reads the window and its
trailing windows, filtered on the source's event time alone (`lookback <= t < end`), so
DuckDB skips the Parquet row groups outside it and Spark pushes the filter to its scan.
Times are naive UTC literals, the wall time every source's event time is read as.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lucid.engines.drift_sql import Dialect

Span = tuple[datetime, datetime]


def _time(d: Dialect, moment: datetime) -> str:
    wall = moment.replace(tzinfo=None).isoformat(sep=" ")
    return f"CAST({d.text(wall)} AS TIMESTAMP)"


def _within(d: Dialect, t: str, span: Span) -> str:
    return f"{t} >= {_time(d, span[0])} AND {t} < {_time(d, span[1])}"


def source_counts(
    d: Dialect,
    relation: str,
    event_time: str,
    window: Span,
    trailing: Sequence[Span],
    columns: Sequence[tuple[str, bool]],
    ingestion_time: str | None = None,
) -> str:
    """One row: rows in `window`, rows in each `trailing` window, rows before the window's
    start, the oldest and the newest event time of the scan; per `(column, numeric)` its
    usable rows (not NULL; for a number also not NaN or ±inf) in the window and in the
    trailing windows; with `ingestion_time`, the mean (ingestion - event) seconds of the
    window's rows. The scan reads [oldest trailing start, window end)."""
    t = d.quote(event_time)
    in_window = _within(d, t, window)
    in_trailing = " OR ".join(f"({_within(d, t, span)})" for span in trailing) or "FALSE"
    parts = [f"count(CASE WHEN {in_window} THEN 1 END)"]
    parts += [f"count(CASE WHEN {_within(d, t, span)} THEN 1 END)" for span in trailing]
    parts += [f"count(CASE WHEN {t} < {_time(d, window[0])} THEN 1 END)", f"min({t})", f"max({t})"]
    for column, numeric in columns:
        usable = d.usable(column) if numeric else f"{d.quote(column)} IS NOT NULL"
        parts += [
            f"count(CASE WHEN {in_window} AND {usable} THEN 1 END)",
            f"count(CASE WHEN ({in_trailing}) AND {usable} THEN 1 END)",
        ]
    if ingestion_time is not None:
        i = d.quote(ingestion_time)
        parts.append(f"avg(CASE WHEN {in_window} THEN epoch({i}) - epoch({t}) END)")
    start = min([window[0], *(span[0] for span in trailing)])
    return f"SELECT {', '.join(parts)} FROM {relation} WHERE {_within(d, t, (start, window[1]))}"


def newest_event(d: Dialect, relation: str, event_time: str, before: datetime) -> str:
    """One row: the newest event time before `before` (NULL when there is none)."""
    t = d.quote(event_time)
    return f"SELECT max({t}) FROM {relation} WHERE {t} < {_time(d, before)}"


@dataclass(frozen=True, slots=True)
class SourceQueries:
    """The source-health queries with a `Dialect` bound: what an engine offers monitoring
    as `source_queries` (`lucid.ports.offline.SourceQueries`)."""

    dialect: Dialect

    def counts(
        self,
        relation: str,
        event_time: str,
        window: Span,
        trailing: Sequence[Span],
        columns: Sequence[tuple[str, bool]],
        ingestion_time: str | None = None,
    ) -> str:
        return source_counts(
            self.dialect, relation, event_time, window, trailing, columns, ingestion_time
        )

    def newest_event(self, relation: str, event_time: str, before: datetime) -> str:
        return newest_event(self.dialect, relation, event_time, before)
