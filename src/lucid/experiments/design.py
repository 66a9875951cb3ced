"""Designing an experiment: a model's challenger version against its production version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lucid.contracts.events import format_time
from lucid.contracts.experiments.assignment import DEFAULT_CHALLENGER_SHARE, validate_experiment_id
from lucid.contracts.experiments.design import Design
from lucid.contracts.experiments.events import ExperimentCreated
from lucid.contracts.identities import normalise_identity
from lucid.contracts.value import Stage, text
from lucid.errors import Conflict
from lucid.experiments.state import experiment_event
from lucid.experiments.versions import ModelVersions
from lucid.ports.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class Plan:
    """What the person designing an experiment chooses; None takes the contract's value.

    `baseline_rate` is a rate in (0, 1); `minimum_detectable_effect` is absolute, in rate
    units (0.02 = two points); `salt` defaults to the experiment id.
    """

    minimum_detectable_effect: float
    baseline_rate: float | None = None
    salt: str | None = None
    challenger_share: float = DEFAULT_CHALLENGER_SHARE
    alpha: float | None = None
    power: float = 0.8
    sequential: bool = False


def create(
    uows: UnitsOfWork,
    models: ModelVersions,
    clock: Callable[[], datetime],
    experiment_id: str,
    *,
    model: str,
    challenger: int,
    plan: Plan,
    actor: str,
    rationale: str,
) -> Design:
    """Design and store an experiment of `model`'s challenger version against its production
    version; refused (nothing stored) when the id is taken or the versions do not fit."""
    validate_experiment_id(experiment_id)
    who, why = normalise_identity(actor, "actor"), text(rationale, "rationale")
    design = _design(models, experiment_id, model, challenger, plan)
    minimum = design.minimum_sample()
    now = clock()
    with uows() as uow:
        if uow.experiments.get(experiment_id) is not None:
            raise Conflict(f"experiment: {experiment_id} already exists; nothing changed.")
        uow.experiments.add(design, created_at=format_time(now), created_by=who)
        uow.record(
            experiment_event(
                ExperimentCreated(experiment_id, design.to_dict(), minimum.to_dict()),
                who,
                why,
                now,
            )
        )
    return design


def _design(
    models: ModelVersions, experiment_id: str, model: str, challenger: int, plan: Plan
) -> Design:
    production = models.production_version(model)
    candidate = models.get_version(model, challenger)
    if production is None:
        raise Conflict(
            f"{model} has no production version to serve as the control; nothing changed."
        )
    if candidate.stage is not Stage.CHALLENGER:
        raise Conflict(
            f"challenger: {candidate.label} is {candidate.stage.value}; only a version at the "
            "challenger stage may be tested against production; nothing changed."
        )
    impact = candidate.impact
    return Design(
        experiment_id=experiment_id,
        model=model,
        control_version=production.version,
        challenger_version=challenger,
        metric=impact.metric,
        direction=impact.direction,
        guardrails=impact.guardrails,
        salt=text(plan.salt if plan.salt is not None else experiment_id, "salt"),
        challenger_share=plan.challenger_share,
        baseline_rate=impact.baseline if plan.baseline_rate is None else plan.baseline_rate,
        minimum_detectable_effect=plan.minimum_detectable_effect,
        alpha=impact.alpha if plan.alpha is None else plan.alpha,
        power=plan.power,
        sequential=bool(plan.sequential),
    )
