"""A served prediction, wherever it is asked for: `POST /v1/predict/{model}` (one entity or a
batch, `lucid.service.predictor`) and `lucid models predict` (a file of entities,
`score_offline`). Both route each entity the same way,
check its request-time inputs the same way before anything is logged, and log the same row:
the model's inputs by name (pinned features and request-time values), its score and its arm.

Routing: under a running experiment each entity gets the arm its id hashes to (and that
arm's version); otherwise the production version serves it, in the arm `production`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lucid.contracts.experiments import Design, assign
from lucid.contracts.semantic import ServedValue
from lucid.contracts.value.request_inputs import RequestInput, checked_values
from lucid.errors import Conflict
from lucid.features.serving import fresh_rows
from lucid.monitoring.predictions import prediction_rows
from lucid.registry.serving import ServedModel

PRODUCTION_ARM = "production"
"""The arm of a prediction made outside any experiment."""


@dataclass(frozen=True, slots=True)
class Asked:
    """One entity to predict for, with its request-time values as the caller gave them."""

    entity_id: str
    inputs: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Routed:
    """An entity routed to its arm and version, its request-time values checked."""

    position: int
    entity_id: str
    arm: str
    version: int
    values: dict[str, Any]


def arm_of(entity_id: str, design: Design | None, production: int | None) -> tuple[str, int]:
    """The arm and version serving `entity_id`: its experiment arm under a running
    experiment (`design`), else production."""
    if design is not None:
        arm = assign(entity_id, design.salt, design.challenger_share)
        return arm, design.version_of(arm)
    if production is None:
        raise Conflict("The model has no production version to serve.")
    return PRODUCTION_ARM, production


def routed(
    asked: Sequence[Asked],
    arms: Sequence[tuple[str, int]],
    request_inputs: Callable[[int], Sequence[RequestInput]],
    where: Callable[[int], str],
    from_text: bool = False,
) -> list[Routed]:
    """Each entity with its arm and version (`arms`, in order) and its request-time values
    checked against its version's declarations (`request_inputs(version)`); the first bad
    value refuses them all, named `where(position)`.<input>. `from_text`: the values are
    written as text (a CSV file's cells) and read by each input's type."""
    return [
        Routed(
            position,
            item.entity_id,
            arm,
            version,
            checked_values(request_inputs(version), item.inputs, where(position), from_text),
        )
        for position, (item, (arm, version)) in enumerate(zip(asked, arms, strict=True))
    ]


def logged_predictions(
    model: str,
    version: int,
    items: Sequence[Routed],
    rows: Sequence[Mapping[str, Any]],
    results: Sequence[tuple[Any, float | None]],
    served_at: datetime,
) -> list[dict[str, Any]]:
    """The prediction log's rows of one version's predictions: each entity's model inputs by
    name (`rows`), its score (P(label = 1), else the prediction itself) and its arm."""
    return prediction_rows(
        model,
        version,
        [
            {
                "entity": item.entity_id,
                "served_at": served_at,
                "features": row,
                "score": score if score is not None else float(prediction),
                "arm": item.arm,
            }
            for item, row, (prediction, score) in zip(items, rows, results, strict=True)
        ],
    )


def answered(
    item: Routed,
    inputs: Mapping[str, Any],
    result: tuple[Any, float | None],
    logged: Mapping[str, Any],
) -> dict[str, Any]:
    """What the caller is told of one prediction: the entity, the version and arm that
    served it, the inputs the model was given, its prediction, score and logged id."""
    prediction, score = result
    return {
        "entity_id": item.entity_id,
        "version": item.version,
        "arm": item.arm,
        "inputs": dict(inputs),
        "prediction": prediction,
        "score": score,
        "prediction_id": logged["id"],
    }


def exposure_rows(items: Sequence[Routed]) -> list[dict[str, Any]]:
    """The exposures of entities routed by a running experiment."""
    return [{"entity_id": item.entity_id, "arm": item.arm} for item in items]


def by_version(items: Sequence[Routed]) -> dict[int, list[Routed]]:
    """The items grouped by the version serving them, each group in request order."""
    groups: dict[int, list[Routed]] = {}
    for item in items:
        groups.setdefault(item.version, []).append(item)
    return groups


@dataclass
class Scored:
    """What scoring a batch offline made: the answers in order, and what it must log — the
    values served (with the moment they were read), the prediction rows and the exposures."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    served: list[tuple[dict[str, ServedValue], datetime]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    exposures: list[dict[str, Any]] = field(default_factory=list)


Reader = Callable[[Sequence[str], tuple[str, ...], datetime], list[dict[str, ServedValue]]]
"""Entity ids, pinned features, the moment → each entity's served values by pin (NotFound for
an id its entity's listing source does not hold)."""


def score_offline(
    model: str,
    asked: Sequence[Asked],
    arms: Sequence[tuple[str, int]],
    *,
    load: Callable[[int], ServedModel],
    read: Reader,
    clock: Callable[[], datetime],
    where: Callable[[int], str],
    chunk: int = 1000,
    from_text: bool = False,
) -> Scored:
    """Predict for every entity as `POST /v1/predict` would, `chunk` entities at a time: each
    served by its arm's version (`arms`, from `arm_of`), its request-time values checked for
    all entities before anything is read, its features read online at the pinned versions
    (a missing, stale or unknown one refuses them all); `from_text` as in `routed`. Nothing
    is logged here: the caller stores `Scored` in one unit of work."""
    models: dict[int, ServedModel] = {}
    for _, version in arms:
        if version not in models:
            models[version] = load(version)
    items = routed(asked, arms, lambda version: models[version].request_inputs, where, from_text)
    scored = Scored(answers=[{}] * len(items))
    for start in range(0, len(items), chunk):
        for version, group in by_version(items[start : start + chunk]).items():
            served = models[version]
            moment = clock()
            entities = [item.entity_id for item in group]
            values = (
                read(entities, served.features, moment) if served.features else [{}] * len(group)
            )
            rows = served.by_name(fresh_rows(values), [item.values for item in group])
            predictions, scores = served.predict_scored(rows)
            results = list(zip(predictions, scores, strict=True))
            logged = logged_predictions(model, version, group, rows, results, moment)
            scored.served += [(row, moment) for row in values]
            scored.predictions += logged
            for item, row, result, log in zip(group, rows, results, logged, strict=True):
                scored.answers[item.position] = answered(item, row, result, log)
    return scored
