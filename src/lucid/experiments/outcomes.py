"""Outcomes: each exposed entity's result on the experiment's metric and its guardrails."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from lucid.contracts.experiments.design import Design
from lucid.contracts.experiments.events import OutcomesLogged
from lucid.contracts.identities import normalise_identity
from lucid.errors import Conflict, InvalidInput
from lucid.experiments.batches import outcome_row
from lucid.experiments.state import experiment_event, running
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork


def record_outcomes(
    uows: UnitsOfWork,
    clock: Callable[[], datetime],
    experiment_id: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: str,
) -> dict[str, int]:
    """Log per-entity outcomes (`entity_id`, `value`, optional `metric`, `observed_at`).

    `metric` defaults to the contract's metric; a value is any finite number (0/1 for a
    binary metric). Every entity must have been exposed, and each
    (entity, metric) has one outcome. Returns how many outcomes were logged per metric.
    """
    who = normalise_identity(actor, "actor")
    now = clock()
    with uows() as uow:
        design = running(uow, experiment_id)
        experiment_id = design.experiment_id
        batch = _batch(design, rows, now)
        _check_stored(uow, experiment_id, batch)
        values = list(batch.values())
        uow.experiments.add_outcomes(values)
        counts: dict[str, int] = {}
        for _, metric in batch:
            counts[metric] = counts.get(metric, 0) + 1
        uow.record(
            experiment_event(
                OutcomesLogged(experiment_id, counts), who, f"{len(values)} outcomes logged", now
            )
        )
    return counts


def _batch(
    design: Design, rows: Iterable[Mapping[str, Any]], now: datetime
) -> dict[tuple[str, str], dict[str, Any]]:
    """The batch's outcomes by (entity, metric), each checked; one per pair."""
    known = {design.metric, *(g.metric for g in design.guardrails)}
    batch: dict[tuple[str, str], dict[str, Any]] = {}
    for index, row in enumerate(rows):
        outcome = outcome_row(design, known, row, index, now)
        key = (outcome["entity_id"], outcome["metric"])
        if key in batch:
            raise InvalidInput(
                f"outcomes[{index}].entity_id",
                f"{key[0]} has two {key[1]} outcomes in this batch; one per entity",
            )
        batch[key] = {"experiment_id": design.experiment_id, **outcome}
    if not batch:
        raise InvalidInput("outcomes", "the batch holds no rows")
    return batch


def _check_stored(
    uow: UnitOfWork, experiment_id: str, batch: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """Refuse the batch when an entity was never exposed or already has that outcome."""
    entities = sorted({entity for entity, _ in batch})
    exposed = uow.experiments.exposed_among(experiment_id, entities)
    missing = [entity for entity in entities if entity not in exposed]
    if missing:
        raise InvalidInput(
            "outcomes.entity_id",
            f"{len(missing)} entities were never exposed in {experiment_id} (first: "
            f"{missing[0]}); an outcome counts only for an exposed entity, nothing stored",
        )
    taken = uow.experiments.outcomes_taken(experiment_id, entities)
    clash = next((pair for pair in taken if pair in batch), None)
    if clash is not None:
        raise Conflict(
            f"outcomes.entity_id: {clash[0]} already has a {clash[1]} outcome in "
            f"{experiment_id}; one per entity, nothing stored."
        )
