"""Judging an experiment at one look, and the registry's `Evidence` of a concluded one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lucid.contracts.experiments.design import Design
from lucid.contracts.experiments.sample_size import SampleSize
from lucid.contracts.experiments.statistics import (
    ArmStats,
    EffectTest,
    RatioCheck,
    always_valid_test,
    difference_test,
    sample_ratio_check,
)
from lucid.contracts.value import (
    Arm,
    Comparison,
    Direction,
    Evidence,
    EvidenceKind,
    Guardrail,
    GuardrailResult,
    Origin,
)
from lucid.errors import InvalidInput


def guardrail_results(
    guardrails: Sequence[Guardrail], challenger_values: Mapping[str, float]
) -> list[GuardrailResult]:
    """Each guardrail judged on the challenger's value (see `guardrail_bounds`); unmeasured
    does not hold."""
    return [GuardrailResult(g, challenger_values.get(g.metric)) for g in guardrails]


def guardrail_bounds(
    guardrails: Sequence[Guardrail], stats: Mapping[str, ArmStats], alpha: float
) -> dict[str, float]:
    """Each guardrail's value as the gate judges it: the one-sided (1 - alpha) confidence bound
    of the challenger's mean on the limit's side (upper for a cap, lower for a floor), so a
    guardrail holds only when the data show, at the contract's alpha, that the challenger
    respects it (non-inferiority against the limit). A metric measured on fewer than two
    entities has no bound and stays unmeasured."""
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha))
    bounds: dict[str, float] = {}
    for guardrail in guardrails:
        arm = stats.get(guardrail.metric)
        if arm is None or arm.measured < 2 or arm.mean is None:
            continue
        half = z * (arm.variance / arm.measured) ** 0.5
        bounds[guardrail.metric] = (
            arm.mean + half if guardrail.bound.value == "cap" else (arm.mean - half)
        )
    return bounds


class Decision(StrEnum):
    """Where an experiment stands after an analysis."""

    COLLECTING = "collecting"
    """Not enough sample yet and the sequential test (if any) has not decided."""
    INVALID = "invalid"
    """Sample-ratio mismatch: the assignment or the logging is broken."""
    CHALLENGER_BETTER = "challenger_better"
    CHALLENGER_NON_INFERIOR = "challenger_non_inferior"
    """Non-inferiority test: the interval's worse bound lies within the margin."""
    GUARDRAIL_BROKEN = "guardrail_broken"
    """The challenger passes on the metric but breaks (or never measured) a guardrail."""
    CONTROL_BETTER = "control_better"
    NO_DIFFERENCE = "no_difference"
    """Superiority not shown (p > alpha), or non-inferiority not shown (worse bound beyond
    the margin) without the control being significantly better."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """An experiment's state at one look: SRM check, test, guardrails, the decision."""

    design: Design
    control: ArmStats
    challenger: ArmStats
    minimum: SampleSize
    ratio: RatioCheck
    test: EffectTest | None
    guardrails: tuple[GuardrailResult, ...]
    challenger_guardrail_values: Mapping[str, float]
    decision: Decision
    reason: str
    guardrail_stats: Mapping[str, ArmStats] = field(default_factory=dict)

    @property
    def minimum_reached(self) -> bool:
        return (
            self.control.measured >= self.minimum.control
            and self.challenger.measured >= self.minimum.challenger
        )

    @property
    def can_conclude(self) -> bool:
        return self.decision not in (Decision.COLLECTING, Decision.INVALID)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.design.experiment_id,
            "comparison": self.design.comparison.value,
            "control": {"version": self.design.control_label, **self.control.to_dict()},
            "challenger": {"version": self.design.challenger_label, **self.challenger.to_dict()},
            "minimum_sample": self.minimum.to_dict(),
            "minimum_reached": self.minimum_reached,
            "sample_ratio": self.ratio.to_dict(),
            "test": self.test.to_dict() if self.test else None,
            "guardrails": [result.to_dict() for result in self.guardrails],
            "decision": self.decision.value,
            "reason": self.reason,
            "can_conclude": self.can_conclude,
        }


def analyse(
    design: Design,
    control: ArmStats,
    challenger: ArmStats,
    challenger_guardrail_values: Mapping[str, float] | None = None,
    *,
    guardrail_stats: Mapping[str, ArmStats] | None = None,
) -> Analysis:
    """Judge an experiment at this look.

    Rule: an SRM invalidates; a fixed-horizon design decides only once both arms reached the
    minimum sample; a sequential design decides as soon as its always-valid interval decides
    (superiority: p ≤ alpha; non-inferiority: the worse bound within the margin), or at the
    minimum sample. Better is `design.direction`. A challenger that passes with a guardrail
    broken or unmeasured is `guardrail_broken`: concluded, but its evidence will not pass the
    gate. Given `guardrail_stats` (the challenger's statistics of each guardrail metric), a
    guardrail is judged on its confidence bound (`guardrail_bounds`); else on the given values.
    """
    stats = dict(guardrail_stats or {})
    values = (
        guardrail_bounds(design.guardrails, stats, design.alpha)
        if guardrail_stats is not None
        else dict(challenger_guardrail_values or {})
    )
    minimum = design.minimum_sample()
    ratio = sample_ratio_check(
        control.exposed, challenger.exposed, design.challenger_share, design.srm_threshold
    )
    guards = tuple(guardrail_results(design.guardrails, values))
    test: EffectTest | None = None
    if control.measured and challenger.measured:
        test = (
            always_valid_test(
                control, challenger, tau=design.minimum_detectable_effect, alpha=design.alpha
            )
            if design.sequential
            else difference_test(control, challenger, design.alpha)
        )
    if ratio.mismatch:
        decision, reason = (
            Decision.INVALID,
            f"sample-ratio mismatch: {challenger.exposed} challenger and {control.exposed} "
            f"control exposures for a designed share of {design.challenger_share:g} "
            f"(chi-square p = {ratio.p_value:.3g} < {ratio.threshold:g}); the result is invalid",
        )
    else:
        decision, reason = _decide(design, control, challenger, minimum, test, guards)
    return Analysis(
        design, control, challenger, minimum, ratio, test, guards, values, decision, reason, stats
    )


def worse_bound(direction: Direction, test: EffectTest) -> float:
    """The interval's bound on the worse side, as a gain (negative = worse than control)."""
    return test.ci_low if direction is Direction.HIGHER else -test.ci_high


def _decide(
    design: Design,
    control: ArmStats,
    challenger: ArmStats,
    minimum: SampleSize,
    test: EffectTest | None,
    guards: Sequence[GuardrailResult],
) -> tuple[Decision, str]:
    """The decision and its reason once the sample ratio holds (see `analyse`)."""
    reached = control.measured >= minimum.control and challenger.measured >= minimum.challenger
    significant = test is not None and test.p_value <= design.alpha
    non_inferior_test = design.comparison is Comparison.NON_INFERIORITY
    margin = design.margin or 0.0
    within = test is not None and worse_bound(design.direction, test) > -margin
    decided = significant or (non_inferior_test and within)
    if not reached and not (design.sequential and decided):
        rule = (
            "and the sequential test has not decided yet"
            if design.sequential
            else "(fixed-horizon test: no conclusion before it)"
        )
        return (
            Decision.COLLECTING,
            f"{control.measured}/{minimum.control} control and {challenger.measured}/"
            f"{minimum.challenger} challenger entities measured {rule}",
        )
    assert test is not None
    better = design.direction.better(test.effect, 0.0)
    interval = f"[{test.ci_low:+.4g}, {test.ci_high:+.4g}]"
    if significant and better:
        passed = Decision.CHALLENGER_BETTER
        why = f"effect {test.effect:+.4g} (p = {test.p_value:.4g} ≤ {design.alpha:g})"
    elif non_inferior_test and within:
        passed = Decision.CHALLENGER_NON_INFERIOR
        why = (
            f"effect {test.effect:+.4g}, interval {interval}: the worse bound lies within "
            f"the margin {margin:g}"
        )
    elif significant:
        return (
            Decision.CONTROL_BETTER,
            f"effect {test.effect:+.4g} (p = {test.p_value:.4g} ≤ {design.alpha:g}) favours "
            "the control",
        )
    elif non_inferior_test:
        return (
            Decision.NO_DIFFERENCE,
            f"effect {test.effect:+.4g}, interval {interval}: non-inferiority not shown, the "
            f"worse bound lies beyond the margin {margin:g}",
        )
    else:
        return (
            Decision.NO_DIFFERENCE,
            f"p = {test.p_value:.4g} > alpha {design.alpha:g}: no significant difference",
        )
    failing = [result for result in guards if not result.held]
    if failing:
        listed = ", ".join(
            result.guardrail.describe()
            + (" unmeasured" if result.value is None else f" broken ({result.value:g})")
            for result in failing
        )
        return (
            Decision.GUARDRAIL_BROKEN,
            f"{why} favours the challenger but its guardrails fail: {listed}",
        )
    verdict = "favours the challenger" if passed is Decision.CHALLENGER_BETTER else ""
    return passed, f"{why} {verdict}".strip()


def evidence_of(analysis: Analysis, produced_at: str) -> Evidence:
    """The registry's business evidence of a concluded analysis (treatment = the challenger),
    produced by Lucid at `produced_at` (the clock's time, `format_time`)."""
    if not analysis.can_conclude or analysis.test is None:
        raise InvalidInput("experiment", f"cannot become evidence: {analysis.reason}")
    design, test = analysis.design, analysis.test
    control, challenger = analysis.control, analysis.challenger
    assert control.mean is not None and challenger.mean is not None
    return Evidence(
        metric=design.metric,
        control=Arm(design.control_label, control.measured, control.mean),
        treatment=Arm(design.challenger_label, challenger.measured, challenger.mean),
        effect=test.effect,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        confidence=1 - design.alpha,
        p_value=test.p_value,
        alpha=design.alpha,
        source=f"experiment {design.experiment_id}",
        guardrail_values=dict(analysis.challenger_guardrail_values),
        test=test.method,
        kind=EvidenceKind.BUSINESS,
        origin=Origin.LUCID,
        direction=design.direction,
        design=design.to_dict(),
        data={
            "control": {
                "n": control.measured,
                "exposed": control.exposed,
                "mean": control.mean,
                "variance": control.variance,
            },
            "challenger": {
                "n": challenger.measured,
                "exposed": challenger.exposed,
                "mean": challenger.mean,
                "variance": challenger.variance,
            },
            **test.to_dict(),
            "guardrails": {
                metric: {"n": arm.measured, "mean": arm.mean, "variance": arm.variance}
                for metric, arm in analysis.guardrail_stats.items()
            },
            "minimum_sample": analysis.minimum.to_dict(),
            "sample_ratio": analysis.ratio.to_dict(),
            "decision": analysis.decision.value,
        },
        produced_at=produced_at,
    )
