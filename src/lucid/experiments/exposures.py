"""Exposures: which entity saw which arm, logged in batches or while serving predictions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lucid.contracts.experiments.assignment import ARMS, CHALLENGER, CONTROL, assign
from lucid.contracts.experiments.events import ExposuresLogged
from lucid.contracts.identities import normalise_identity
from lucid.errors import InvalidInput
from lucid.experiments.batches import entity_id, exposure_row
from lucid.experiments.state import experiment_event, running, stored
from lucid.experiments.versions import ModelVersions
from lucid.ports.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class Served:
    """One prediction served inside an experiment: who, which arm and version, what."""

    entity_id: str
    arm: str
    version: int
    prediction: Any


def expose(
    uows: UnitsOfWork,
    clock: Callable[[], datetime],
    experiment_id: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: str,
) -> dict[str, int]:
    """Log exposures (`entity_id`, optional `arm`, `version`, `exposed_at`, `covariate`).

    A given arm or version must be the entity's assigned one. An entity exposed before keeps
    its first exposure. Returns the new exposures per arm and the already-exposed count.
    `ExposuresLogged` is recorded when the batch exposes an entity for the first time; a
    batch of entities all exposed before stores nothing and records nothing (the serving
    path logs one such batch per commit while an experiment runs).
    Opened inside another write transaction of the same database (the prediction journal's
    batch) it joins it; a refusal is raised before anything is written.
    """
    who = normalise_identity(actor, "actor")
    now = clock()
    with uows() as uow:
        design = running(uow, experiment_id)
        experiment_id = design.experiment_id
        batch: dict[str, tuple[str, int, str, float | None]] = {}
        for index, row in enumerate(rows):
            entity, arm, version, moment, covariate = exposure_row(design, row, index, now)
            batch.setdefault(entity, (arm, version, moment, covariate))
        if not batch:
            raise InvalidInput("exposures", "the batch holds no rows")
        seen = uow.experiments.exposed_among(experiment_id, list(batch))
        new = [
            {
                "experiment_id": experiment_id,
                "entity_id": entity,
                "arm": arm,
                "version": version,
                "exposed_at": moment,
                "covariate": covariate,
            }
            for entity, (arm, version, moment, covariate) in batch.items()
            if entity not in seen
        ]
        counts = {arm: sum(1 for row in new if row["arm"] == arm) for arm in ARMS}
        if new:  # a batch of entities all exposed before changes nothing: no event
            uow.experiments.add_exposures(new)
            uow.record(
                experiment_event(
                    ExposuresLogged(experiment_id, counts[CONTROL], counts[CHALLENGER], len(seen)),
                    who,
                    f"{len(new)} exposures logged",
                    now,
                )
            )
    return {**counts, "already_exposed": len(seen)}


def serve(
    uows: UnitsOfWork,
    models: ModelVersions,
    clock: Callable[[], datetime],
    experiment_id: str,
    entity_ids: Sequence[str],
    *,
    actor: str,
    rows: Sequence[Mapping[str, float]] | None = None,
) -> list[Served]:
    """Predict for each entity with its assigned arm's version and log the exposures.

    Feature `rows` (one per entity, by feature name) are used when given; otherwise each
    version reads its pinned features from the online store (`for_entities`). The exposures
    are logged only once every prediction succeeded.
    """
    with uows.read() as uow:
        design = stored(uow, experiment_id)[0]
    experiment_id = design.experiment_id
    entities = [entity_id(e, f"entity_ids[{i}]") for i, e in enumerate(entity_ids)]
    if rows is not None and len(rows) != len(entities):
        raise InvalidInput("rows", f"must hold one row per entity ({len(entities)})")
    by_arm: dict[str, list[int]] = {arm: [] for arm in ARMS}
    for index, entity in enumerate(entities):
        by_arm[assign(entity, design.salt, design.challenger_share)].append(index)
    predictions: dict[int, Any] = {}
    for arm, indexes in by_arm.items():
        if not indexes:
            continue
        model = models.load_model(design.model, version=design.version_of(arm))
        if rows is None:
            found = model.for_entities([entities[i] for i in indexes])
        else:
            found = model([rows[i] for i in indexes])
        predictions.update(zip(indexes, found, strict=True))
    expose(uows, clock, experiment_id, [{"entity_id": e} for e in entities], actor=actor)
    arms = {i: arm for arm, indexes in by_arm.items() for i in indexes}
    return [
        Served(entity, arms[i], design.version_of(arms[i]), predictions[i])
        for i, entity in enumerate(entities)
    ]
