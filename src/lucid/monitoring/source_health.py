"""Data health of the feature store sources a policy watches, over a run's window: one scan
per source (`SourceQueries.counts`), its schema read once (`describe`), graded by
`lucid.contracts.validity.source_health`.

A policy watches the sources it names (`sources:`), else the sources behind the pinned
features of the version it monitors (none for a model that pins none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from lucid.contracts.semantic.sources import ColumnType, Source
from lucid.contracts.semantic.versions import FeatureRef
from lucid.contracts.times import to_utc
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.source_health import (
    DEFAULT_TRAILING_WEEKS,
    SOURCE_METRICS,
    SOURCE_PREFIX,
    SourceCounts,
    parse_source_feature,
    schema_change,
    source_feature,
    source_measurements,
    trailing_windows,
)
from lucid.errors import InvalidInput, NotFound, StorageUnavailable
from lucid.ports.offline import OfflineEngine
from lucid.ports.unit_of_work import UnitOfWork


def check_sources(policy: MonitoringPolicy, known: Mapping[str, Source]) -> None:
    """Refuse a policy naming a source the feature store does not have, or a threshold
    watching `source:<name>[.<column>]` of an unknown source or undeclared column: one
    sentence naming it and the known ones."""
    listed = ", ".join(sorted(known)) or "none is registered"
    for index, name in enumerate(policy.sources or ()):
        if name not in known:
            raise InvalidInput(
                f"sources[{index}]",
                f"{name!r} is not a source of the feature store (known: {listed})",
            )
    for index, threshold in enumerate(policy.thresholds):
        if threshold.feature is None or not threshold.feature.startswith(SOURCE_PREFIX):
            continue
        name, column = parse_source_feature(threshold.feature)
        if name not in known:
            raise InvalidInput(
                f"thresholds[{index}].feature",
                f"{name!r} is not a source of the feature store (known: {listed})",
            )
        if column is not None and column not in known[name].schema:
            raise InvalidInput(
                f"thresholds[{index}].feature",
                f"{column!r} is not a column of source {name} ({', '.join(known[name].schema)})",
            )


def watched_sources(uow: UnitOfWork, policy: MonitoringPolicy, version: str) -> dict[str, Source]:
    """The sources the run of `policy` over `version` measures, by name."""
    known = uow.features.sources()
    if policy.sources is not None:
        check_sources(policy, known)
        return {name: known[name] for name in policy.sources}
    try:
        pins = uow.models.get(policy.model, int(version)).features
    except (NotFound, ValueError):
        return {}
    return pinned_sources(uow, pins, known)


def pinned_sources(
    uow: UnitOfWork, pins: Sequence[str], known: Mapping[str, Source] | None = None
) -> dict[str, Source]:
    """The registered sources behind the features `pins` (`name@version`), by name."""
    known = uow.features.sources() if known is None else known
    names: set[str] = set()
    for pin in pins:
        governed = uow.features.find(FeatureRef.parse(pin))
        if governed is not None:
            names.update(governed.definition.sources)
    return {name: known[name] for name in sorted(names) if name in known}


def measure_sources(
    engine: OfflineEngine,
    sources: Mapping[str, Source],
    window: tuple[datetime, datetime],
    *,
    minimum_rows: int,
    metrics: Sequence[str] | frozenset[str] = SOURCE_METRICS,
    weeks: int = DEFAULT_TRAILING_WEEKS,
) -> list[Measurement]:
    """Every source health measurement in `metrics` of each source over `window` (aware
    UTC [start, end))."""
    wanted = set(metrics) & SOURCE_METRICS
    found: list[Measurement] = []
    for source in sources.values():
        if not wanted:
            break
        try:
            measured = measure_source(engine, source, window, minimum_rows, weeks)
        except (InvalidInput, StorageUnavailable) as error:
            measured = unreadable(source, str(error))
        found += [m for m in measured if m.metric in wanted]
    return found


def unreadable(source: Source, reason: str) -> list[Measurement]:
    """The measurements of a source that cannot be read: every declared column removed (a
    schema change), the rest `insufficient_data`, each saying why."""
    name = source_feature(source.name)
    note = f"the source cannot be read: {reason}"
    found = [
        Measurement(metric, None, feature=name, sufficient=False, note=note)
        for metric in sorted(SOURCE_METRICS - {"schema_changes"})
    ]
    found.append(
        Measurement(
            "schema_changes",
            float(len(source.schema)),
            feature=name,
            note=note,
            details={"added": "", "removed": ", ".join(source.schema), "retyped": ""},
        )
    )
    return found


def measure_source(
    engine: OfflineEngine,
    source: Source,
    window: tuple[datetime, datetime],
    minimum_rows: int,
    weeks: int = DEFAULT_TRAILING_WEEKS,
) -> list[Measurement]:
    """Every health measurement of one source over `window`."""
    found = engine.describe(source)
    relation = engine.relation(source)
    columns = [
        (column, kind in (ColumnType.INTEGER, ColumnType.DOUBLE))
        for column, kind in found.items()
        if column != source.event_time
    ]
    trailing = trailing_windows(*window, weeks)
    ingestion = source.ingestion_time if source.ingestion_time in found else None
    q = engine.source_queries
    t = source.event_time
    [row] = engine.query(q.counts(relation, t, window, trailing, columns, ingestion))
    counts = _counts(row, len(trailing), columns, ingestion is not None)
    lookback = trailing[-1][0] if trailing else window[0]
    if not counts.rows:  # the scan's newest event may not be the newest before the end
        [(newest,)] = engine.query(q.newest_event(relation, t, window[1], lookback))
        if newest is None:
            [(newest,)] = engine.query(q.newest_event(relation, t, window[1]))
        counts = replace(counts, newest=_time(newest))
    if not sum(counts.trailing_rows):
        [(before, oldest)] = engine.query(q.history(relation, t, lookback, window[0]))
        earliest = _time(oldest) or counts.oldest
        if counts.newest is not None and counts.newest < lookback:
            earliest = counts.newest  # silent for the whole lookback: history covers it
        counts = replace(counts, before_rows=int(before), oldest=earliest)
    declared = {column: kind.value for column, kind in source.schema.items()}
    return source_measurements(
        source.name,
        window,
        counts,
        change=schema_change(declared, {c: _type_text(k) for c, k in found.items()}),
        minimum_rows=minimum_rows,
        weeks=weeks,
        has_ingestion_time=source.ingestion_time is not None,
    )


def _counts(
    row: tuple[Any, ...], weeks: int, columns: list[tuple[str, bool]], lag: bool
) -> SourceCounts:
    rows = int(row[0])
    trailing = [int(v) for v in row[1 : 1 + weeks]]
    at = 1 + weeks
    oldest, newest = _time(row[at]), _time(row[at + 1])
    at += 2
    missing: dict[str, int] = {}
    trailing_missing: dict[str, int] = {}
    for column, _ in columns:
        usable, trailing_usable = int(row[at] or 0), int(row[at + 1] or 0)
        missing[column] = rows - usable
        trailing_missing[column] = sum(trailing) - trailing_usable
        at += 2
    lag_seconds = None if not lag or row[at] is None else float(row[at])
    return SourceCounts(rows, trailing, 0, oldest, newest, missing, trailing_missing, lag_seconds)


def _time(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "event_time")


def _type_text(kind: ColumnType | str) -> str:
    return kind.value if isinstance(kind, ColumnType) else kind
