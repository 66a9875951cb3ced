"""Outcomes that carry business metric values: for predictions served in an arm of the
model's running experiment, each value becomes that entity's experiment outcome, stored with
the monitoring outcomes in one unit of work (a refusal stores nothing of the batch)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lucid.contracts.experiments.assignment import ARMS
from lucid.experiments.outcomes import record_outcomes
from lucid.monitoring.predictions import Measured, Writer
from lucid.ports.monitoring import PredictionLog
from lucid.ports.unit_of_work import UnitsOfWork


def experiment_writer(
    uows: UnitsOfWork,
    log: PredictionLog,
    clock: Callable[[], datetime],
    model: str,
    actor: str,
) -> Writer:
    """The `Writer` of `lucid.monitoring.predictions.log_outcomes` for `model`.

    A value counts when its prediction was served in the control or challenger arm and its
    entity was exposed in the model's running experiment; an (entity, metric) that already
    has an experiment outcome keeps its first one. The experiment's rules judge the rest
    (the metric must be the experiment's or a guardrail, the value a finite number)."""

    def write(new: list[dict[str, Any]], measured: list[Measured]) -> int:
        arms = log.arms_of(model, [prediction_id for _, prediction_id, _, _ in measured])
        with uows() as uow:
            experiment_id = uow.experiments.running_for(model)
            rows: dict[tuple[str, str], dict[str, Any]] = {}
            if experiment_id is not None:
                served = {
                    prediction_id: entity
                    for prediction_id, (entity, arm) in arms.items()
                    if arm in ARMS
                }
                exposed = uow.experiments.exposed_among(experiment_id, sorted(set(served.values())))
                taken = set(uow.experiments.outcomes_taken(experiment_id, sorted(exposed)))
                for _, prediction_id, observed, values in measured:
                    entity = served.get(prediction_id)
                    if entity is None or entity not in exposed:
                        continue
                    for metric, value in values.items():
                        if (entity, metric) not in taken:
                            rows.setdefault(
                                (entity, metric),
                                {
                                    "entity_id": entity,
                                    "metric": metric,
                                    "value": value,
                                    "observed_at": observed,
                                },
                            )
            if rows and experiment_id is not None:
                record_outcomes(uows, clock, experiment_id, list(rows.values()), actor=actor)
            if new:
                log.insert_outcomes(new, uow.connection)
        return len(rows)

    return write
