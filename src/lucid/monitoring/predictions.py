"""Logging predictions and outcomes: validation of every row before anything is stored, and
the rule that joins an outcome to its prediction.

Join rule: an outcome naming a `prediction_id` belongs to that prediction (of the same model);
otherwise it belongs to the latest prediction served to its `entity` at or before its
`observed_at`, and no earlier than `horizon` before it (90 days by default). An outcome with
no such prediction is not stored and is reported as unmatched. A prediction has at most one
outcome: logging the same label again is a no-op, a different label is refused.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lucid.contracts.events import format_time, parse_time
from lucid.contracts.times import utc_text
from lucid.contracts.value import validate_model_name
from lucid.errors import Conflict, InvalidInput
from lucid.monitoring.prediction_tables import (
    RESERVED_COLUMNS,
    rows_table,
    store_table,
    version_name,
)
from lucid.ports.monitoring import PredictionLog

DEFAULT_HORIZON = timedelta(days=90)

_PREDICTION_FIELDS = {"id", "entity", "served_at", "features", "score", "arm"}
_OUTCOME_FIELDS = {"prediction_id", "entity", "label", "observed_at", "metrics"}

MAX_METRICS = 20
"""Business metric values one outcome row may carry."""


@dataclass(frozen=True, slots=True)
class OutcomeReport:
    """What `log_outcomes` did: outcomes stored, already stored (same label), and the
    positions (0-based) of the rows that matched no prediction."""

    logged: int
    already_logged: int
    unmatched: tuple[int, ...] = field(default_factory=tuple)
    experiment_outcomes: int = 0
    """Business metric values recorded as experiment outcomes (see `Monitor.log_outcomes`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "logged": self.logged,
            "already_logged": self.already_logged,
            "unmatched": len(self.unmatched),
            "experiment_outcomes": self.experiment_outcomes,
            "unmatched_rows": list(self.unmatched[:20]),
        }


def moment(value: object, field_name: str) -> str:
    """The canonical UTC text of a time given in a row (`lucid.contracts.times`: an offset is
    honoured, naive means UTC, a date its midnight UTC)."""
    return utc_text(value, field_name)


def _feature_value(value: object, where: str) -> object:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        number = float(value)
        # NaN and ±inf are kept as null: the statistics count them as unusable values.
        return value if math.isfinite(number) else None
    raise InvalidInput(where, f"must be a number, text, boolean or null, not {value!r}")


def time_ordered_id() -> str:
    """A UUID of version 7 (RFC 9562): the Unix time in ms, then 74 random bits. Successive
    ids sort in the order they were made to the millisecond, so the prediction log's id index
    grows at its end: random (version 4) ids wrote a random page of it per commit, about a
    quarter of a serving commit's cost (measured with sqlite3, 100,000 rows logged)."""
    random = int.from_bytes(os.urandom(10), "big")
    value = (time.time_ns() // 1_000_000) << 80  # 48 bits of milliseconds
    value |= 0x7 << 76 | (random >> 62 & 0xFFF) << 64  # version 7, 12 random bits
    value |= 0b10 << 62 | random & (1 << 62) - 1  # RFC 9562 variant, 62 random bits
    digits = f"{value:032x}"  # the text of uuid.UUID(int=value), written directly
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def prediction_rows(
    model: str,
    version: str | int,
    rows: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Validated rows for the prediction log; the first bad field refuses the whole batch."""
    validate_model_name(model)
    version_text = version_name(version)
    if not rows:
        raise InvalidInput("rows", "must hold at least one prediction")
    times: dict[tuple[type, object], str] = {}  # a batch's rows often share their served_at
    validated = [
        _prediction(f"rows[{index}]", row, model, version_text, times)
        for index, row in enumerate(rows)
    ]
    ids = [row["id"] for row in validated]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InvalidInput("rows.id", f"{duplicate!r} is given twice; a prediction id is unique")
    return validated


def _prediction(
    where: str, row: object, model: str, version: str, times: dict[tuple[type, object], str]
) -> dict[str, Any]:
    """One validated prediction, its fields in the log's order; `times` holds the texts of
    the served_at values already read."""
    if not isinstance(row, Mapping):
        raise InvalidInput(where, "must be a mapping of prediction fields")
    unknown = sorted(set(row) - _PREDICTION_FIELDS)
    if unknown:
        raise InvalidInput(where, f"has unknown field(s) {', '.join(map(str, unknown))}")
    entity = row.get("entity")
    if isinstance(entity, bool) or not isinstance(entity, str | int) or not str(entity).strip():
        raise InvalidInput(f"{where}.entity", f"must be a non-empty id, not {entity!r}")
    features = _features(where, row.get("features"))
    score = row.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise InvalidInput(f"{where}.score", f"must be a number, not {score!r}")
    if not (math.isfinite(score) and 0 <= score <= 1):
        raise InvalidInput(f"{where}.score", f"must be a probability between 0 and 1, not {score}")
    arm = row.get("arm")
    if arm is not None and (not isinstance(arm, str) or not arm.strip() or len(arm) > 100):
        raise InvalidInput(f"{where}.arm", f"must be a short non-empty name or absent, not {arm!r}")
    return {
        "id": _prediction_id(where, row.get("id")),
        "model": model,
        "version": version,
        "entity": str(entity).strip(),
        "served_at": _served_at(row.get("served_at"), f"{where}.served_at", times),
        "features": _FEATURES_JSON.encode(features),
        "score": float(score),
        "arm": arm,
    }


_FEATURES_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""The log's text of a prediction's features (what `json.dumps` with these options writes)."""


def _served_at(value: object, where: str, times: dict[tuple[type, object], str]) -> str:
    """`moment(value, where)`, read once per value of a batch."""
    try:
        key = (type(value), value)
        text = times.get(key)
    except TypeError:  # a value that cannot be a key is read each time
        return moment(value, where)
    if text is None:
        text = times[key] = moment(value, where)
    return text


def _features(where: str, features: object) -> dict[str, object]:
    if not isinstance(features, Mapping):
        raise InvalidInput(f"{where}.features", "must be a mapping of feature name to value")
    clean: dict[str, object] = {}
    for name, value in features.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where}.features", f"{name!r} is not a feature name")
        if name in RESERVED_COLUMNS:
            raise InvalidInput(
                f"{where}.features.{name}",
                "is reserved for the model output and the outcome; rename the feature",
            )
        clean[name] = _feature_value(value, f"{where}.features.{name}")
    return clean


def _prediction_id(where: str, prediction_id: object) -> str:
    if prediction_id is None:
        return time_ordered_id()
    if not isinstance(prediction_id, str) or not prediction_id.strip() or len(prediction_id) > 64:
        raise InvalidInput(
            f"{where}.id",
            f"must be non-empty text of at most 64 characters, not {prediction_id!r}",
        )
    return prediction_id


def prediction_of_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A file's row as a prediction: `id`, `entity`, `served_at`, `score` and `arm` as they
    are, every other column a feature."""
    fields = {k: row[k] for k in ("id", "entity", "served_at", "score", "arm") if k in row}
    features = {k: v for k, v in row.items() if k not in fields}
    return {**fields, "features": features}


def log_predictions(
    log: PredictionLog,
    model: str,
    version: str | int,
    rows: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Store validated predictions in bulk; returns their ids. Nothing is stored on refusal.
    A batch of at least the log's `segment_rows` is stored as columns
    (`lucid.monitoring.prediction_tables`)."""
    validated = prediction_rows(model, version, rows)
    # Ids generated here are new uuid4s; only ids the caller chose can already be logged.
    supplied = [row["id"] for row in rows if isinstance(row, Mapping) and row.get("id")]
    threshold = log.segment_rows
    if threshold is not None and len(validated) >= threshold:
        return store_table(log, model, rows_table(validated), check_ids=bool(supplied))
    taken = log.insert_predictions(validated, check_ids=supplied)
    if taken is not None:
        raise Conflict(
            f"rows.id: {taken!r} is already logged; a prediction id is unique, nothing was stored."
        )
    return [row["id"] for row in validated]


Outcome = tuple[str | None, str | None, int, str]
"""A validated outcome: (prediction id or None, entity or None, label 0/1, observed_at)."""

Measured = tuple[int, str, str, dict[str, float]]
"""A matched outcome's business metric values: (row, prediction id, observed_at, values)."""

Writer = Callable[[list[dict[str, Any]], list[Measured]], int]
"""Stores the new outcome rows and the business metric values in one unit of work; returns
how many values became experiment outcomes."""


def log_outcomes(
    log: PredictionLog,
    model: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    now: datetime,
    write: Writer | None = None,
) -> OutcomeReport:
    """Join outcomes to their predictions (see the module's rule) and store them in bulk.

    A row's `metrics` (business metric name → finite number) go, with the new rows, to
    `write` (which stores both in one unit of work); without `write` they are ignored."""
    validate_model_name(model)
    if horizon <= timedelta(0):
        raise InvalidInput("horizon", f"must be a positive duration, not {horizon}")
    if not rows:
        raise InvalidInput("rows", "must hold at least one outcome")
    parsed = [_outcome(f"rows[{index}]", row) for index, row in enumerate(rows)]
    values = [_metrics(f"rows[{index}].metrics", row) for index, row in enumerate(rows)]
    joined = _join(log, model, parsed, horizon)
    unmatched = tuple(i for i, p, _, _ in joined if p is None)
    chosen = _one_label_each(joined)
    logged_at = utc_text(now, "now")
    measured = [
        (index, prediction_id, observed, values[index])
        for index, prediction_id, _, observed in joined
        if prediction_id is not None and values[index]
    ]
    recorded = 0
    # Checked and stored under the lock seals and other outcome writers hold: an outcome
    # sealed or stored meanwhile cannot pass the check.
    with log.outcome_lock():
        stored = log.outcomes_of(chosen)
        for prediction_id, (index, label, _) in chosen.items():
            if prediction_id in stored and stored[prediction_id] != label:
                raise Conflict(
                    f"rows[{index}].label: prediction {prediction_id} already has the outcome "
                    f"{stored[prediction_id]}; a prediction has one outcome, nothing was stored."
                )
        new = [
            {
                "prediction_id": prediction_id,
                "model": model,
                "label": label,
                "observed_at": observed,
                "logged_at": logged_at,
            }
            for prediction_id, (_, label, observed) in chosen.items()
            if prediction_id not in stored
        ]
        if write is not None and measured:
            recorded = write(new, measured)
        elif new:
            log.insert_outcomes(new)
    return OutcomeReport(len(new), len(chosen) - len(new), unmatched, recorded)


def _metrics(where: str, row: object) -> dict[str, float]:
    """A row's business metric values: name → finite number (at most `MAX_METRICS`)."""
    raw = row.get("metrics") if isinstance(row, Mapping) else None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or len(raw) > MAX_METRICS:
        raise InvalidInput(
            where, f"must map at most {MAX_METRICS} metric names to numbers, not {raw!r}"
        )
    found: dict[str, float] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise InvalidInput(where, f"a metric name must be 1-200 characters, not {name!r}")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInput(f"{where}.{name}", f"must be a finite number, not {value!r}")
        found[name.strip()] = float(value)
    return found


def _outcome(where: str, row: object) -> Outcome:
    if not isinstance(row, Mapping):
        raise InvalidInput(where, "must be a mapping of outcome fields")
    unknown = sorted(set(row) - _OUTCOME_FIELDS)
    if unknown:
        raise InvalidInput(where, f"has unknown field(s) {', '.join(map(str, unknown))}")
    prediction_id, entity = row.get("prediction_id"), row.get("entity")
    if prediction_id is not None and (not isinstance(prediction_id, str) or not prediction_id):
        raise InvalidInput(f"{where}.prediction_id", f"must be text, not {prediction_id!r}")
    if prediction_id is None:
        if entity is None or isinstance(entity, bool) or not str(entity).strip():
            raise InvalidInput(
                where, "must name its prediction_id or its entity (the join needs one)"
            )
        entity = str(entity).strip()
    label = row.get("label")
    if isinstance(label, bool):
        label = int(label)
    if isinstance(label, float) and label in (0.0, 1.0):
        label = int(label)
    if label not in (0, 1) or not isinstance(label, int):
        raise InvalidInput(f"{where}.label", f"must be 0 or 1 (binary outcome), not {label!r}")
    observed = moment(row.get("observed_at"), f"{where}.observed_at")
    return prediction_id, None if prediction_id else entity, label, observed


def _join(
    log: PredictionLog, model: str, parsed: Sequence[Outcome], horizon: timedelta
) -> list[tuple[int, str | None, int, str]]:
    """Each outcome's (position, prediction id or None when unmatched, label, observed_at)."""
    by_id = log.predictions_by_id(model, [p for p, _, _, _ in parsed if p is not None])
    horizon_rows = [
        (
            entity,
            format_time(parse_time(observed) - horizon),
            observed,
        )
        for p, entity, _, observed in parsed
        if p is None and entity is not None
    ]
    by_entity = iter(log.latest_before(model, horizon_rows))
    joined: list[tuple[int, str | None, int, str]] = []
    for index, (prediction_id, _, label, observed) in enumerate(parsed):
        if prediction_id is not None:
            joined.append(
                (index, prediction_id if prediction_id in by_id else None, label, observed)
            )
        else:
            joined.append((index, next(by_entity), label, observed))
    return joined


def _one_label_each(
    joined: Sequence[tuple[int, str | None, int, str]],
) -> dict[str, tuple[int, int, str]]:
    """Prediction id → (position, label, observed_at) of its outcome; refused when two rows
    give one prediction different labels."""
    chosen: dict[str, tuple[int, int, str]] = {}
    for index, prediction_id, label, observed in joined:
        if prediction_id is None:
            continue
        earlier = chosen.get(prediction_id)
        if earlier is not None and earlier[1] != label:
            raise Conflict(
                f"rows[{index}].label: {label} contradicts rows[{earlier[0]}] for prediction "
                f"{prediction_id}; a prediction has one outcome, nothing was stored."
            )
        chosen[prediction_id] = (index, label, observed)
    return chosen
