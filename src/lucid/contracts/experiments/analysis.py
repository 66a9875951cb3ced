"""Judging an experiment at one look, and the registry's `Evidence` of a concluded one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.experiments.design import Design
from lucid.contracts.experiments.statistics import (
    ArmCounts,
    ProportionTest,
    RatioCheck,
    SampleSize,
    always_valid_test,
    rates,
    sample_ratio_check,
    two_proportion_test,
)
from lucid.contracts.value import Arm, Evidence, Guardrail, GuardrailResult
from lucid.errors import InvalidInput


def guardrail_results(
    guardrails: Sequence[Guardrail], challenger_values: Mapping[str, float]
) -> list[GuardrailResult]:
    """Each guardrail judged on the challenger's measured mean; unmeasured does not hold."""
    return [GuardrailResult(g, challenger_values.get(g.metric)) for g in guardrails]


class Decision(StrEnum):
    """Where an experiment stands after an analysis."""

    COLLECTING = "collecting"
    """Not enough sample yet and the sequential test (if any) has not decided."""
    INVALID = "invalid"
    """Sample-ratio mismatch: the assignment or the logging is broken."""
    CHALLENGER_BETTER = "challenger_better"
    GUARDRAIL_BROKEN = "guardrail_broken"
    """The challenger is better on the metric but breaks (or never measured) a guardrail."""
    CONTROL_BETTER = "control_better"
    NO_DIFFERENCE = "no_difference"


@dataclass(frozen=True, slots=True)
class Analysis:
    """An experiment's state at one look: SRM check, test, guardrails, the decision."""

    design: Design
    control: ArmCounts
    challenger: ArmCounts
    minimum: SampleSize
    ratio: RatioCheck
    test: ProportionTest | None
    guardrails: tuple[GuardrailResult, ...]
    challenger_guardrail_values: Mapping[str, float]
    decision: Decision
    reason: str

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
        def arm(counts: ArmCounts) -> dict[str, Any]:
            return {
                "exposed": counts.exposed,
                "measured": counts.measured,
                "successes": counts.successes,
                "rate": counts.rate,
            }

        return {
            "experiment": self.design.experiment_id,
            "control": {"version": self.design.control_label, **arm(self.control)},
            "challenger": {"version": self.design.challenger_label, **arm(self.challenger)},
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
    control: ArmCounts,
    challenger: ArmCounts,
    challenger_guardrail_values: Mapping[str, float] | None = None,
) -> Analysis:
    """Judge an experiment at this look.

    Rule: an SRM invalidates; a fixed-horizon design decides only once both arms reached the
    minimum sample; a sequential design decides as soon as its always-valid p ≤ alpha, or at
    the minimum sample (then with "no difference" when p > alpha). A challenger better on the
    metric with a guardrail broken or unmeasured (its mean over the challenger's entities)
    is `guardrail_broken`: concluded, but its evidence will not pass the gate.
    """
    values = dict(challenger_guardrail_values or {})
    minimum = design.minimum_sample()
    ratio = sample_ratio_check(
        control.exposed, challenger.exposed, design.challenger_share, design.srm_threshold
    )
    guards = tuple(guardrail_results(design.guardrails, values))
    test: ProportionTest | None = None
    if control.measured and challenger.measured:
        test = (
            always_valid_test(
                control, challenger, tau=abs(design.minimum_detectable_effect), alpha=design.alpha
            )
            if design.sequential
            else two_proportion_test(control, challenger, design.alpha)
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
        design, control, challenger, minimum, ratio, test, guards, values, decision, reason
    )


def _decide(
    design: Design,
    control: ArmCounts,
    challenger: ArmCounts,
    minimum: SampleSize,
    test: ProportionTest | None,
    guards: Sequence[GuardrailResult],
) -> tuple[Decision, str]:
    """The decision and its reason once the sample ratio holds (see `analyse`)."""
    reached = control.measured >= minimum.control and challenger.measured >= minimum.challenger
    significant = test is not None and test.p_value <= design.alpha
    if not reached and not (design.sequential and significant):
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
    if not significant:
        return (
            Decision.NO_DIFFERENCE,
            f"p = {test.p_value:.4g} > alpha {design.alpha:g}: no significant difference",
        )
    better = design.direction.better(test.effect, 0.0)
    failing = [result for result in guards if not result.held]
    if better and failing:
        listed = ", ".join(
            result.guardrail.describe()
            + (" unmeasured" if result.value is None else f" broken ({result.value:g})")
            for result in failing
        )
        return (
            Decision.GUARDRAIL_BROKEN,
            f"effect {test.effect:+.4g} (p = {test.p_value:.4g}) favours the challenger but "
            f"its guardrails fail: {listed}",
        )
    return (
        Decision.CHALLENGER_BETTER if better else Decision.CONTROL_BETTER,
        f"effect {test.effect:+.4g} (p = {test.p_value:.4g} ≤ {design.alpha:g}) favours the "
        f"{'challenger' if better else 'control'}",
    )


def evidence_of(analysis: Analysis) -> Evidence:
    """The registry's evidence record of a concluded analysis (treatment = the challenger)."""
    if not analysis.can_conclude or analysis.test is None:
        raise InvalidInput("experiment", f"cannot become evidence: {analysis.reason}")
    design, test = analysis.design, analysis.test
    pc, pt = rates(analysis.control, analysis.challenger)
    return Evidence(
        metric=design.metric,
        control=Arm(design.control_label, analysis.control.measured, pc),
        treatment=Arm(design.challenger_label, analysis.challenger.measured, pt),
        effect=test.effect,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        confidence=1 - design.alpha,
        p_value=test.p_value,
        alpha=design.alpha,
        source=f"experiment {design.experiment_id}",
        guardrail_values=dict(analysis.challenger_guardrail_values),
        test=test.method,
    )
