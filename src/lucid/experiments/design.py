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
from lucid.contracts.value import Comparison, EvidenceKind, Stage, text
from lucid.errors import Conflict
from lucid.experiments.state import experiment_event
from lucid.experiments.versions import ModelVersions
from lucid.ports.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class Plan:
    """What the person designing an experiment chooses; None takes the contract's value.

    `minimum_detectable_effect` (metric units, positive) overrides the effect the test is
    powered for: by default the contract's minimum effect |target - baseline| for a
    superiority test, the margin for a non-inferiority test (the comparison comes from the
    business clause of the contract's rule of evidence). `baseline` is the control's expected
    mean (a proportion for a 0/1 metric); `metric_sd` the per-entity standard deviation of a
    numeric metric (required for one; None means a 0/1 metric). `covariate_correlation` is
    the expected correlation of the CUPED covariate with the metric. `entities_per_day` and
    `planned_days` give the duration the test must fit in. `salt` defaults to the id.
    """

    minimum_detectable_effect: float | None = None
    baseline: float | None = None
    salt: str | None = None
    challenger_share: float = DEFAULT_CHALLENGER_SHARE
    alpha: float | None = None
    power: float = 0.8
    sequential: bool = False
    metric_sd: float | None = None
    covariate_correlation: float = 0.0
    entities_per_day: float | None = None
    planned_days: float | None = None


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
    version; refused (nothing stored) when the id is taken, the versions do not fit, or the
    test cannot reach its minimum sample at its share within the planned days (the refusal
    proposes a share or a duration that can)."""
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
    clause = next((c for c in impact.evidence_rule if c.kind is EvidenceKind.BUSINESS), None)
    comparison = Comparison.SUPERIORITY if clause is None else clause.comparison
    margin: float | None = None
    if comparison is Comparison.NON_INFERIORITY:
        assert clause is not None
        margin = clause.margin if clause.margin is not None else impact.rollback_margin
    effect = plan.minimum_detectable_effect
    if effect is None:
        effect = impact.minimum_effect if margin is None else margin
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
        baseline=impact.baseline if plan.baseline is None else plan.baseline,
        minimum_detectable_effect=effect,
        alpha=impact.alpha if plan.alpha is None else plan.alpha,
        power=plan.power,
        sequential=bool(plan.sequential),
        comparison=comparison,
        margin=margin,
        metric_sd=plan.metric_sd,
        covariate_correlation=plan.covariate_correlation,
        entities_per_day=plan.entities_per_day,
        planned_days=plan.planned_days,
    )
