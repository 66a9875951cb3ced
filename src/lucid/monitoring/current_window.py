"""The window a run or a drill watches: which model version, its logged predictions as a
table shaped like the reference profile (or registered in the engine unread), and the
business-metric drop the registry knows."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.contracts.value import Direction
from lucid.errors import NotFound
from lucid.monitoring.windows import Kind, Window, parts_table, scan_columns
from lucid.ports import ComputeEngine
from lucid.ports.monitoring import PredictionLog
from lucid.ports.window_scan import WindowScan

if TYPE_CHECKING:
    import pyarrow as pa

    from lucid.registry.model_registry import ModelRegistry


SCAN_ROWS = 200_000
"""Segments holding fewer predictions make a window built as one Arrow table (tens of MB):
each query then reads memory rather than opening and decoding the files again."""


def monitored_version(
    registry: ModelRegistry,
    log: PredictionLog,
    model: str,
    window: Window,
    version: str | int | None,
) -> str:
    """The version a run watches: the one given, else the registry's production version,
    else the version of the latest prediction logged in the window."""
    if version is not None:
        return str(version)
    try:
        serving = registry.production_version(model)
    except NotFound:
        serving = None
    if serving is not None:
        return str(serving.version)
    latest = log.latest_version(model, window.start, window.end)
    if latest is None:
        raise NotFound(
            f"No prediction of {model} was logged in {window.key} and it has no production "
            "version; log predictions first."
        )
    return latest


def business_measurement(registry: ModelRegistry, model: str, version: str) -> Measurement | None:
    """The business-metric drop of `version`: its latest observation of the contract's
    metric against the contract's baseline; None when the registry has neither."""
    from lucid.monitoring.performance import business_metric_drop

    if not (version.isascii() and version.isdigit()):  # "²".isdigit() is true, int("²") fails
        return None
    try:
        current = registry.get_version(model, int(version))
    except NotFound:
        return None
    impact = current.impact
    seen = [o for o in registry.observations(model, current.version) if o.metric == impact.metric]
    if not seen:
        return None
    latest = seen[-1]
    measured = business_metric_drop(
        impact.baseline, latest.value, higher_is_better=impact.direction is Direction.HIGHER
    )
    return replace(
        measured,
        feature=impact.metric,
        note=f"{impact.metric} {latest.value:g} over {latest.period} vs baseline "
        f"{impact.baseline:g} of {current.label}",
    )


def _shape(profile: ReferenceProfile) -> tuple[dict[str, Kind], bool]:
    """The window columns the profile measures (feature → kind) and whether it compares
    labels (only when the profile has a reference performance)."""
    kinds: dict[str, Kind] = {
        name: column.kind
        for name, column in profile.overall.columns.items()
        if name not in ("score", "label")
    }
    if profile.segment_column is not None:
        kinds[profile.segment_column] = "categorical"
    return kinds, any(s.performance is not None for s in profile.segments.values())


def current_table(
    log: PredictionLog,
    profile: ReferenceProfile,
    model: str,
    window: Window,
    version: str,
) -> tuple[pa.Table, bool]:
    """The window's predictions of `version` as a table with the profile's columns, and
    whether any of them has its outcome (labels are compared only when the profile has a
    reference performance)."""
    kinds, with_label = _shape(profile)
    parts = log.window_parts(model, window.start, window.end, version, labels=with_label)
    table = parts_table(parts, kinds, with_label=with_label)
    labelled = with_label and table.column("label").null_count < table.num_rows
    return table, labelled


def register_window(
    engine: ComputeEngine,
    name: str,
    log: PredictionLog,
    profile: ReferenceProfile,
    model: str,
    window: Window,
    version: str,
) -> bool:
    """Register the window `current_table` gives as `name` without reading its segments: the
    engine scans them on each query (a `WindowScan`), so a run holds a query's working set,
    not the window; segments of fewer than `SCAN_ROWS` predictions are read into a table.
    Returns whether any prediction has its outcome."""
    kinds, with_label = _shape(profile)
    rows, segments = log.window_scan(model, window.start, window.end, version, labels=with_label)
    small = segments is None or segments.rows < SCAN_ROWS
    columns = None if segments is None or small else scan_columns(segments.schema, kinds)
    if segments is None or columns is None:
        table, labelled = current_table(log, profile, model, window, version)
        engine.register(name, table)
        return labelled
    shaped = parts_table([rows] if rows.num_rows else [], kinds, with_label=with_label)
    engine.register(
        name,
        WindowScan(
            segments,
            columns,
            with_label,
            shaped,
            lambda: current_table(log, profile, model, window, version)[0],
        ),
    )
    if not with_label:
        return False
    [(count,)] = engine.query(f"SELECT count(label) FROM {name}")
    return bool(count)
