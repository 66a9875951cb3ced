"""The rows of an exposures or outcomes batch, each checked against the design before any is
written: a refusal names the row and the column, and nothing of the batch is stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lucid.contracts.events import format_time
from lucid.contracts.experiments.assignment import assign
from lucid.contracts.experiments.design import Design
from lucid.contracts.times import utc_text
from lucid.contracts.value import finite
from lucid.errors import InvalidInput


def entity_id(value: object, field: str) -> str:
    """An entity id: text or a whole number, 1-200 characters once stripped."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(field, f"must be an entity id (text or whole number), not {value!r}")
    entity = str(value).strip()
    if not entity or len(entity) > 200:
        raise InvalidInput(field, f"must be 1-200 characters, not {value!r}")
    return entity


def exposure_row(
    design: Design, row: Mapping[str, Any], index: int, now: datetime
) -> tuple[str, str, int, str, float | None]:
    """(entity, arm, version, exposed_at, covariate) of one exposure; a given arm or version
    must be the entity's assigned one; `covariate` (the entity's pre-period value for CUPED)
    is a finite number or absent."""
    where = f"exposures[{index}]"
    if not isinstance(row, Mapping):
        raise InvalidInput(where, f"must be a mapping with entity_id, not {row!r}")
    unknown = sorted(set(row) - {"entity_id", "arm", "version", "exposed_at", "covariate"})
    if unknown:
        raise InvalidInput(where, f"has unknown column(s) {', '.join(unknown)}")
    entity = entity_id(row.get("entity_id"), f"{where}.entity_id")
    assigned = assign(entity, design.salt, design.challenger_share)
    arm = row.get("arm")
    if arm is not None and arm != assigned:
        raise InvalidInput(
            f"{where}.arm",
            f"{entity} is assigned to {assigned} by the experiment's hash, not {arm!r}; "
            "nothing stored",
        )
    version = row.get("version")
    expected = design.version_of(assigned)
    if version is not None and (isinstance(version, bool) or version != expected):
        raise InvalidInput(
            f"{where}.version",
            f"{entity} is in the {assigned} arm, served by version {expected}, not "
            f"{version!r}; nothing stored",
        )
    raw = row.get("covariate")
    covariate = None if _absent(raw) else _number(raw, f"{where}.covariate")
    moment = _moment(row.get("exposed_at"), f"{where}.exposed_at", now)
    return entity, assigned, expected, moment, covariate


def outcome_row(
    design: Design, known: set[str], row: Mapping[str, Any], index: int, now: datetime
) -> dict[str, Any]:
    """One outcome (entity_id, metric, value, observed_at): a finite number on the
    experiment's metric or a guardrail metric (one of `known`)."""
    where = f"outcomes[{index}]"
    if not isinstance(row, Mapping):
        raise InvalidInput(where, f"must be a mapping with entity_id and value, not {row!r}")
    unknown = sorted(set(row) - {"entity_id", "metric", "value", "observed_at"})
    if unknown:
        raise InvalidInput(where, f"has unknown column(s) {', '.join(unknown)}")
    entity = entity_id(row.get("entity_id"), f"{where}.entity_id")
    metric = row.get("metric") or design.metric
    if metric not in known:
        raise InvalidInput(
            f"{where}.metric",
            f"{metric!r} is neither the experiment's metric nor a guardrail (expected one "
            f"of {', '.join(sorted(known))}); nothing stored",
        )
    value = _number(row.get("value"), f"{where}.value")
    return {
        "entity_id": entity,
        "metric": metric,
        "value": value,
        "observed_at": _moment(row.get("observed_at"), f"{where}.observed_at", now),
    }


def _absent(value: object) -> bool:
    """An empty cell: None, or NaN as a CSV reader gives a blank."""
    return value is None or (isinstance(value, float) and value != value) or value == ""


def _number(value: object, field: str) -> float:
    """A finite number (True/False count as 1/0; text that reads as a number, as a CSV
    column with a text cell gives, counts as that number)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidInput(
                field, f"must be a finite number, not {value!r}; nothing stored"
            ) from None
    if value is None:
        raise InvalidInput(field, "must be a finite number, not empty; nothing stored")
    return finite(float(value) if isinstance(value, bool) else value, field)


def _moment(value: object, field: str, default: datetime) -> str:
    return format_time(default) if value is None else utc_text(value, field)
