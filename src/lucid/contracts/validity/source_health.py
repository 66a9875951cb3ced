"""Data-health rules of a feature store source over a run's window, from counts an engine
computed (`lucid.engines.source_sql`): volume against the same weekday-window of the
trailing weeks, freshness, ingestion lag, NULL share per column, schema changes.

The window is [start, end); an event is in it when `start <= event_time < end`.

- Trailing windows: the window shifted back by 1..`weeks` whole weeks (a window longer than a
  week is shifted by its length rounded up to whole weeks), so a Monday is compared with the
  Mondays before it. A trailing window counts when it ends after the oldest event of the
  lookback (earlier ones lie before the source's history).
- `source_volume_ratio`: (rows + 1) / (expected + 1), expected = the mean rows of the counted
  trailing windows. The +1 keeps a quiet source honest: nothing expected and nothing seen is
  1; a silent window is critical once a few rows were expected. With no trailing window
  counted (under a week of history), expected is the source's mean rate since its oldest
  event times the window's duration, not weekday-aware, and the note says so; with less than
  one window's duration of history, the volume is `insufficient_data`.
- `source_volume_surge`: the same ratio, graded the other way: a source whose volume jumps
  (ingestion run twice, bot traffic, or the world changed) is as suspect as one that drops.
- Evidence of a volume change: the conditional test of two Poisson rates. With no change the
  window's rows, given the rows of the window and of the history it is compared with, are
  Binomial(total, window duration / (window + history duration)); `source_volume_ratio`'s
  p-value is the lower tail, `source_volume_surge`'s the upper one. A quiet source (a few
  tickets a day) then needs far more than a doubling to be graded, a busy one far less.
- `source_freshness_hours`: (end - newest event before end) in hours; a source with no event
  before `end` is `insufficient_data`.
- `source_ingestion_lag_hours`: the mean of (ingestion time - event time) over the window's
  rows with an ingestion time, in hours; measured only for a source declaring one.
- `source_null_share`: missing rows of a column / rows of the window (missing: NULL, and NaN
  or ±inf for a number). `source_null_share_rise`: that share minus the share over the
  trailing windows' rows (0 without trailing rows). Sufficient with `minimum_rows` rows.
- `schema_changes`: columns added, removed or retyped in the data against the source's
  declared schema (an integer column where a double is declared is no change).

Measurements name the source in `feature`: `source:<name>` for the source, and
`source:<name>.<column>` for a column's shares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from lucid.contracts.validity.actions import SEED_ACTIONS, Action
from lucid.contracts.validity.grades import DriftType
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.thresholds import Threshold

SOURCE_PREFIX = "source:"
"""How a measurement of a source names it in `feature`."""

SOURCE_METRICS = frozenset(
    {
        "source_volume_ratio",
        "source_volume_surge",
        "source_freshness_hours",
        "source_ingestion_lag_hours",
        "source_null_share",
        "source_null_share_rise",
        "schema_changes",
    }
)
"""Every data-health metric of a source."""

DEFAULT_TRAILING_WEEKS = 4
"""How many trailing weeks the expected volume and the NULL baseline read."""

DEFAULT_SOURCE_BOUNDS: Mapping[str, tuple[float, float]] = {
    "source_volume_ratio": (0.5, 0.2),
    "source_volume_surge": (1.5, 3.0),
    "source_freshness_hours": (12.0, 24.0),
    "source_null_share_rise": (0.05, 0.2),
    "schema_changes": (1.0, 2.0),
}
"""(warning, critical) of the default source thresholds."""

WEEK = timedelta(days=7)


def source_feature(source: str, column: str | None = None) -> str:
    """The `feature` of a source's measurement: `source:<name>[.<column>]`."""
    return SOURCE_PREFIX + source + ("" if column is None else f".{column}")


def parse_source_feature(feature: str) -> tuple[str, str | None]:
    """(source, column or None) of a `source:<name>[.<column>]` feature."""
    name, _, column = feature.removeprefix(SOURCE_PREFIX).partition(".")
    return name, column or None


def trailing_windows(
    start: datetime, end: datetime, weeks: int = DEFAULT_TRAILING_WEEKS
) -> list[tuple[datetime, datetime]]:
    """The window [start, end) shifted back by 1..`weeks` whole weeks (by its length rounded
    up to whole weeks when it is longer than a week), most recent first."""
    shift = WEEK * max(1, math.ceil((end - start) / WEEK))
    return [(start - k * shift, end - k * shift) for k in range(1, weeks + 1)]


@dataclass(frozen=True, slots=True)
class SourceCounts:
    """What one scan of a source over [oldest trailing start, end) counted.

    `trailing_rows` holds the rows of each trailing window, most recent first; `before_rows`
    the rows before the window's start; `oldest` and `newest` the oldest event of the scan and
    the newest event before `end` (None: no event); `missing` and `trailing_missing` each
    column's missing rows in the window and in the trailing windows; `lag_seconds` the mean
    ingestion lag of the window's rows (None: no ingestion time)."""

    rows: int
    trailing_rows: Sequence[int]
    before_rows: int
    oldest: datetime | None
    newest: datetime | None
    missing: Mapping[str, int] = field(default_factory=dict)
    trailing_missing: Mapping[str, int] = field(default_factory=dict)
    lag_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """How the data's columns differ from the declared schema (column -> type text)."""

    added: Sequence[str] = ()
    removed: Sequence[str] = ()
    retyped: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """column -> (declared, found)."""

    @property
    def count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.retyped)


def schema_change(declared: Mapping[str, str], found: Mapping[str, str]) -> SchemaChange:
    """The columns `found` in the data that `declared` lacks, those it declares and the data
    lacks, and those read with another type (an integer where a double is declared is no
    change)."""
    retyped = {
        column: (kind, found[column])
        for column, kind in declared.items()
        if column in found
        and found[column] != kind
        and not (kind == "double" and found[column] == "integer")
    }
    return SchemaChange(
        added=sorted(set(found) - set(declared)),
        removed=sorted(set(declared) - set(found)),
        retyped=retyped,
    )


def source_measurements(
    source: str,
    window: tuple[datetime, datetime],
    counts: SourceCounts,
    *,
    change: SchemaChange,
    minimum_rows: int,
    weeks: int = DEFAULT_TRAILING_WEEKS,
    has_ingestion_time: bool = False,
) -> list[Measurement]:
    """Every health measurement of `source` over `window` (aware UTC times)."""
    end = window[1]
    name = source_feature(source)
    volume = volume_measurement(name, window, counts, weeks)
    found = [
        volume,
        replace(volume, metric="source_volume_surge", pvalue=volume.details.get("surge_pvalue")),
        _freshness(name, end, counts.newest),
        Measurement(
            "schema_changes",
            float(change.count),
            feature=name,
            details={
                "added": ", ".join(change.added),
                "removed": ", ".join(change.removed),
                "retyped": ", ".join(f"{c} ({d} -> {f})" for c, (d, f) in change.retyped.items()),
            },
        ),
    ]
    if has_ingestion_time:
        lag = None if counts.lag_seconds is None else counts.lag_seconds / 3600
        found.append(
            Measurement(
                "source_ingestion_lag_hours",
                lag,
                feature=name,
                current_rows=counts.rows,
                sufficient=lag is not None,
                note=None if lag is not None else "no row of the window has an ingestion time",
            )
        )
    trailing = sum(_counted(window, counts, weeks))
    for column, missing in counts.missing.items():
        found += _null_shares(
            source_feature(source, column),
            counts.rows,
            missing,
            trailing,
            counts.trailing_missing.get(column, 0),
            minimum_rows,
        )
    return found


def _counted(window: tuple[datetime, datetime], counts: SourceCounts, weeks: int) -> list[int]:
    """The rows of the trailing windows that count: those ending after the oldest event of
    the scan."""
    return [
        rows
        for (_, shifted_end), rows in zip(
            trailing_windows(*window, weeks), counts.trailing_rows, strict=True
        )
        if counts.oldest is not None and shifted_end > counts.oldest
    ]


def volume_measurement(
    feature: str, window: tuple[datetime, datetime], counts: SourceCounts, weeks: int
) -> Measurement:
    """`source_volume_ratio` of the window against its trailing weeks (see the module)."""
    start, end = window
    rows = _counted(window, counts, weeks)
    details: dict[str, object] = {
        "window_rows": counts.rows,
        "weeks_used": len(rows),
        "trailing_rows": ", ".join(str(r) for r in counts.trailing_rows),
        "newest_event": None if counts.newest is None else counts.newest.isoformat(),
    }
    note = None
    history = (start - counts.oldest).total_seconds() if counts.oldest else 0.0
    duration = (end - start).total_seconds()
    if rows:
        expected = sum(rows) / len(rows)
    else:
        if history < duration:
            return Measurement(
                "source_volume_ratio",
                None,
                feature=feature,
                current_rows=counts.rows,
                sufficient=False,
                note="less than one window of history before the window: no expected volume",
                details=details,
            )
        expected = counts.before_rows / history * duration
        note = "under a week of history: expected rows are the mean rate, not weekday-aware"
    details["expected_rows"] = expected
    history_rows, share = (
        (sum(rows), 1 / (1 + len(rows)))
        if rows
        else (counts.before_rows, duration / (duration + history))
    )
    drop, surge = rate_change_pvalues(counts.rows, history_rows, share)
    details["surge_pvalue"] = surge
    return Measurement(
        "source_volume_ratio",
        (counts.rows + 1) / (expected + 1),
        feature=feature,
        reference_rows=round(expected),
        current_rows=counts.rows,
        note=note,
        details=details,
        pvalue=drop,
    )


def rate_change_pvalues(rows: int, history_rows: int, share: float) -> tuple[float, float]:
    """(P(X <= rows), P(X >= rows)) for X ~ Binomial(rows + history_rows, share): the
    conditional test that the window's rate equals its history's (see the module)."""
    from scipy import special  # a few ms, only when a policy watches sources

    total = rows + history_rows
    if total == 0:
        return 1.0, 1.0
    lower = float(special.bdtr(rows, total, share))
    upper = 1.0 if rows == 0 else float(special.bdtrc(rows - 1, total, share))
    return min(lower, 1.0), min(upper, 1.0)


def _freshness(feature: str, end: datetime, newest: datetime | None) -> Measurement:
    if newest is None:
        return Measurement(
            "source_freshness_hours",
            None,
            feature=feature,
            sufficient=False,
            note="the source has no event before the window's end",
        )
    return Measurement(
        "source_freshness_hours",
        (end - newest).total_seconds() / 3600,
        feature=feature,
        details={"newest_event": newest.isoformat()},
    )


def _null_shares(
    feature: str, rows: int, missing: int, trailing: int, trailing_missing: int, minimum: int
) -> list[Measurement]:
    share = missing / rows if rows else None
    baseline = trailing_missing / trailing if trailing else 0.0
    sufficient = rows >= minimum
    note = None if sufficient else f"the window has {rows} rows (minimum {minimum})"
    details = {"current_missing": missing, "trailing_null_share": baseline}
    return [
        Measurement(
            metric,
            value,
            feature=feature,
            reference_rows=trailing,
            current_rows=rows,
            sufficient=sufficient and value is not None,
            note=note,
            details=details,
        )
        for metric, value in (
            ("source_null_share", share),
            ("source_null_share_rise", None if share is None else share - baseline),
        )
    ]


def default_source_thresholds(
    *,
    warning_actions: Sequence[Action] = SEED_ACTIONS["alert_data_team"],
    critical_actions: Sequence[Action] = SEED_ACTIONS["freeze_deployment_and_investigate"],
) -> tuple[Threshold, ...]:
    """One threshold per metric of `DEFAULT_SOURCE_BOUNDS`, watching every watched source."""
    return tuple(
        Threshold(
            DriftType.DATA,
            metric,
            warning,
            critical,
            tuple(warning_actions),
            tuple(critical_actions),
        )
        for metric, (warning, critical) in DEFAULT_SOURCE_BOUNDS.items()
    )
