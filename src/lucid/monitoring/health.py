"""Data health of a current window against its stored reference profile: one query over every
profiled column (`DriftQueries.health_counts`), graded by `lucid.contracts.validity.health`.

Reads the same window table the drift checks read; measures all rows (not per segment).
Each share with a one-sided test carries its p-value of "no worse than the reference"
(`with_evidence`); the NULL share itself and the volume have none and are graded on effect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

from lucid.contracts.times import to_utc
from lucid.contracts.validity.health import (
    HEALTH_METRICS,
    ColumnHealth,
    health_measurements,
)
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.profiles import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    ReferenceProfile,
)
from lucid.errors import InvalidInput
from lucid.monitoring.profiles import require_columns
from lucid.monitoring.statistics import (
    new_category_pvalue,
    one_sided_rise,
    outside_range_pvalue,
    vanished_pvalue,
)
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
    return [with_evidence(m, references, columns, rows) for m in found if m.metric in wanted]


def with_evidence(
    measurement: Measurement,
    references: Mapping[str, ColumnProfile],
    columns: Mapping[str, ColumnHealth],
    rows: int,
) -> Measurement:
    """`measurement` with the p-value of its one-sided test, when its metric has one:
    NULL share rise (Fisher, against the reference's share), out of range (beta-binomial,
    against the share outside the range when current comes from the reference), new
    categories (beta-binomial, against the reference's pooled rare share), vanished
    categories (union bound over named categories at least as common)."""
    column = measurement.feature
    if measurement.value is None or column is None or column not in columns:
        return measurement
    reference, health = references[column], columns[column]
    usable = rows - health.missing
    pvalue: float | None = None
    if measurement.metric == "null_share_rise":
        pvalue = one_sided_rise(
            reference.rows - reference.usable, reference.rows, health.missing, rows
        )
    elif measurement.metric == "out_of_range_share":
        pvalue = outside_range_pvalue(health.outside, usable, reference.usable)
    elif isinstance(reference, CategoricalProfile) and reference.usable:
        if measurement.metric == "new_category_share":
            pvalue = new_category_pvalue(health.outside, usable, reference.other, reference.usable)
        elif measurement.metric == "vanished_category_share":
            named = health.named or {}
            shares = [count / reference.usable for count in reference.categories.values()]
            gone = [
                count / reference.usable
                for category, count in reference.categories.items()
                if not named.get(category)
            ]
            pvalue = vanished_pvalue(shares, gone, usable)
    if pvalue is None:
        return measurement
    return dataclasses.replace(measurement, pvalue=pvalue)


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
