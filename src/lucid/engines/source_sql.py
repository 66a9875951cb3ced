"""The SQL of a source's data health, generated in one place for every engine.

Written in DuckDB's syntax, like `lucid.engines.drift_sql` (a `Dialect` gives the
usable-number test), and run on Spark through `to_dialect`. One scan reads the window and its
trailing windows, filtered on the source's event time alone (a range per window), so DuckDB
skips the Parquet row groups outside them and Spark pushes the filter to its scan; the rarer
questions (the history before a source with no trailing rows, the newest event of a silent
window) are queries of their own, bounded below when they can be.
Times are naive UTC literals, the wall time every source's event time is read as.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lucid.engines.dialects import Dialect

Span = tuple[datetime, datetime]


def _time(d: Dialect, moment: datetime) -> str:
    wall = moment.replace(tzinfo=None).isoformat(sep=" ")
    return f"CAST({d.text(wall)} AS TIMESTAMP)"


def _within(d: Dialect, t: str, span: Span) -> str:
    return f"{t} >= {_time(d, span[0])} AND {t} < {_time(d, span[1])}"


SPAN = "__lucid_span"
"""The span a scanned row falls in: 0 for the window, k for the k-th trailing window."""


def source_counts(
    d: Dialect,
    relation: str,
    event_time: str,
    window: Span,
    trailing: Sequence[Span],
    columns: Sequence[tuple[str, bool]],
    ingestion_time: str | None = None,
) -> str:
    """One row: rows in `window`, rows in each `trailing` window, the oldest and the newest
    event time scanned; per `(column, numeric)` its usable rows (not NULL; for a number also
    not NaN or ±inf) in the window and in the trailing windows together; with
    `ingestion_time`, the mean (ingestion - event) seconds of the window's rows.

    The scan reads only the rows of these windows, each row tagged once with its span."""
    t = d.quote(event_time)
    spans = [window, *trailing]
    tag = " ".join(f"WHEN {_within(d, t, span)} THEN {k}" for k, span in enumerate(spans))
    parts = [f"count(CASE WHEN {SPAN} = {k} THEN 1 END)" for k in range(len(spans))]
    parts += [f"min({t})", f"max({t})"]
    kept = [t]
    for index, (column, numeric) in enumerate(columns):
        usable = f"__lucid_u{index}"
        test = d.usable(column) if numeric else f"{d.quote(column)} IS NOT NULL"
        kept.append(f"CASE WHEN {test} THEN 1 ELSE 0 END AS {usable}")
        parts += [
            f"sum(CASE WHEN {SPAN} = 0 THEN {usable} ELSE 0 END)",
            f"sum(CASE WHEN {SPAN} > 0 THEN {usable} ELSE 0 END)",
        ]
    if ingestion_time is not None:
        kept.append(f"epoch({d.quote(ingestion_time)}) - epoch({t}) AS __lucid_lag")
        parts.append(f"avg(CASE WHEN {SPAN} = 0 THEN __lucid_lag END)")
    hull = (min(span[0] for span in spans), max(span[1] for span in spans))
    # The hull first: a plain range the scan can prune on, which the OR of ranges is not.
    where = (
        f"{_within(d, t, hull)} AND ("
        + " OR ".join(f"({_within(d, t, span)})" for span in spans)
        + ")"
    )
    return (
        f"SELECT {', '.join(parts)} FROM (SELECT CASE {tag} END AS {SPAN}, {', '.join(kept)} "
        f"FROM {relation} WHERE {where}) AS spans"
    )


def history(d: Dialect, relation: str, event_time: str, since: datetime, before: datetime) -> str:
    """One row: the rows and the oldest event time in [since, before)."""
    t = d.quote(event_time)
    return f"SELECT count(*), min({t}) FROM {relation} WHERE {_within(d, t, (since, before))}"


def newest_event(
    d: Dialect, relation: str, event_time: str, before: datetime, since: datetime | None = None
) -> str:
    """One row: the newest event time in [since, before) (NULL when there is none)."""
    t = d.quote(event_time)
    lower = "" if since is None else f"{t} >= {_time(d, since)} AND "
    return f"SELECT max({t}) FROM {relation} WHERE {lower}{t} < {_time(d, before)}"


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

    def history(self, relation: str, event_time: str, since: datetime, before: datetime) -> str:
        return history(self.dialect, relation, event_time, since, before)

    def newest_event(
        self, relation: str, event_time: str, before: datetime, since: datetime | None = None
    ) -> str:
        return newest_event(self.dialect, relation, event_time, before, since)
