"""Data health of a current window against its stored reference profile: one query over every
profiled column (`DriftQueries.health_counts`), graded by `lucid.contracts.validity.health`.

Reads the same window table the drift checks read; measures all rows (not per segment).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lucid.contracts.times import to_utc
from lucid.contracts.validity.health import (
    HEALTH_METRICS,
    ColumnHealth,
    health_measurements,
)
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.profiles import NumericProfile, ReferenceProfile
from lucid.errors import InvalidInput
from lucid.monitoring.profiles import require_columns
from lucid.ports import ComputeEngine

DURATION = "duration_seconds"
"""The profile's metadata key of its reference window's duration (profiled from a logged
window; a reference file has none)."""


def measure_health(
    engine: ComputeEngine,
    table: str,
    profile: ReferenceProfile,
    *,
    metrics: Collection[str] = HEALTH_METRICS,
    minimum_rows: int = 500,
    duration_ratio: float | None = None,
) -> list[Measurement]:
    """The health `metrics` of `table` (already registered on `engine`): the volume and, per
    profiled column, its shares. `duration_ratio` is the current window's duration over the
    reference's (None: the reference's rows are the expected rows)."""
    wanted = set(metrics) & HEALTH_METRICS
    if not wanted:
        return []
    references = profile.overall.columns
    require_columns(engine.columns(table), list(references), "current")
    numeric = [
        (column, reference.minimum, reference.maximum)
        for column, reference in references.items()
        if isinstance(reference, NumericProfile)
    ]
    categorical = [
        (column, sorted(reference.categories))
        for column, reference in references.items()
        if not isinstance(reference, NumericProfile)
    ]
    [row] = engine.query(engine.drift_queries.health_counts(table, numeric, categorical))
    rows, columns = _column_health(row, numeric, categorical)
    found = health_measurements(
        references,
        rows,
        columns,
        minimum_rows=minimum_rows,
        duration_ratio=duration_ratio,
    )
    return [m for m in found if m.metric in wanted]


def _column_health(
    row: tuple[Any, ...],
    numeric: list[tuple[str, float | None, float | None]],
    categorical: list[tuple[str, list[str]]],
) -> tuple[int, dict[str, ColumnHealth]]:
    """The window's rows and each column's counts, read from the one row of `health_counts`."""
    values = [int(v or 0) for v in row]
    rows, at = values[0], 1
    found: dict[str, ColumnHealth] = {}
    for column, _, _ in numeric:
        usable, outside = values[at : at + 2]
        found[column] = ColumnHealth(rows - usable, outside)
        at += 2
    for column, named in categorical:
        usable, new = values[at : at + 2]
        counts = values[at + 2 : at + 2 + len(named)]
        found[column] = ColumnHealth(rows - usable, new, dict(zip(named, counts, strict=True)))
        at += 2 + len(named)
    return rows, found


def window_seconds(key: str) -> float | None:
    """The duration of the window `start/end` in seconds; None for a key that is not two
    times."""
    start, _, end = key.partition("/")
    try:
        return (to_utc(end, "window_end") - to_utc(start, "window_start")).total_seconds()
    except InvalidInput:
        return None


def duration_ratio(profile: ReferenceProfile, window: str) -> float | None:
    """The current window's duration over the reference's, when both are known."""
    reference = profile.metadata.get(DURATION)
    current = window_seconds(window)
    if not isinstance(reference, int | float) or reference <= 0 or current is None:
        return None
    return current / reference
