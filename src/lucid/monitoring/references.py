"""A model version's reference profile, built once from a reference file or from its logged
predictions and outcomes, stored with its `ReferenceProfileBuilt` event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from lucid.contracts.events import NewEvent
from lucid.contracts.monitoring_events import ReferenceProfileBuilt
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.errors import InvalidInput, NotFound
from lucid.monitoring.health import DURATION, window_seconds
from lucid.monitoring.windows import Window, infer_part_kinds, parts_table
from lucid.ports import ComputeEngine
from lucid.ports.monitoring import PredictionLog
from lucid.ports.unit_of_work import UnitsOfWork

TABLE = "reference"
"""The name the reference is registered under on the compute engine."""


def register_file(engine: ComputeEngine, reference: Path) -> tuple[str | None, str | None]:
    """Register the reference file; its (label column, score column), each None if absent."""
    engine.register(TABLE, reference)
    kinds = engine.columns(TABLE)
    return ("label" if "label" in kinds else None), ("score" if "score" in kinds else None)


def register_logged(
    engine: ComputeEngine, log: PredictionLog, model: str, version: str, window: Window
) -> tuple[str | None, int]:
    """Register the predictions of `version` logged in `window` with their outcomes; its
    label column (None when no outcome arrived) and its row count."""
    parts = log.window_parts(model, window.start, window.end, version, labels=True)
    rows = sum(part.num_rows for part in parts)
    if not rows:
        raise NotFound(
            f"No prediction of {model} version {version} was logged in "
            f"{window.key}; log predictions first or give --reference."
        )
    labelled = any(part.column("label").null_count < part.num_rows for part in parts)
    engine.register(TABLE, parts_table(parts, infer_part_kinds(parts), with_label=labelled))
    return ("label" if labelled else None), rows


def store_profile(
    uows: UnitsOfWork,
    model: str,
    version: str,
    profile: ReferenceProfile,
    *,
    source: str,
    rows: int,
    actor: str,
    now: datetime,
) -> bool:
    """Store the profile with its event; False (nothing recorded) when the same profile was
    stored already."""
    with uows() as uow:
        stored = uow.monitoring.save_profile(model, version, profile, created_at=now)
        if stored:
            uow.record(
                NewEvent.of(
                    ReferenceProfileBuilt(model, version, source, rows),
                    actor=actor,
                    subject=model_subject(model),
                    rationale=f"reference profile of {model} version {version} from {source}",
                )
            )
    return stored


def build_reference(
    uows: UnitsOfWork,
    engine: ComputeEngine,
    log: PredictionLog,
    model: str,
    version: str,
    source: Path | Window,
    *,
    segment: str | None,
    actor: str,
    now: Callable[[], datetime],
) -> tuple[ReferenceProfile, bool]:
    """Profile `version` from a reference file or its predictions logged in a window, and
    store it with its event; (profile, True when stored now, False when the same one was
    there)."""
    from lucid.monitoring.profiles import build_profile

    if isinstance(source, Window):
        label, rows = register_logged(engine, log, model, version, source)
        score: str | None = "score"
        described = f"predictions logged in {source.key}"
    else:
        (label, score), rows = register_file(engine, source), None
        described = str(source)
    profile = build_profile(engine, TABLE, segment_column=segment, label=label, score=score)
    if isinstance(source, Window):
        seconds = window_seconds(source.key)
        profile = replace(profile, metadata={**profile.metadata, DURATION: seconds})
    stored = store_profile(
        uows,
        model,
        version,
        profile,
        source=described,
        rows=profiled_rows(profile) if rows is None else rows,
        actor=actor,
        now=now(),
    )
    return profile, stored


def version_text(version: str | int) -> str:
    text = str(version).strip()
    if not text:
        raise InvalidInput("version", "must name the model version to profile")
    return text


def profiled_rows(profile: ReferenceProfile) -> int:
    """The rows of the largest profiled column (a reference file's row count)."""
    return max((getattr(p, "rows", 0) for p in profile.overall.columns.values()), default=0)
