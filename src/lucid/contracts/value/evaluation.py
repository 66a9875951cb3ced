"""Judging a measured business value against its contract, and the offline-business correlation."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.value.impact import BusinessImpact, GuardrailResult
from lucid.errors import InvalidInput


class Verdict(StrEnum):
    """What an observed business value means for the version that produced it."""

    TARGET_ACHIEVED = "target_achieved"
    WITHIN_BAND = "within_band"
    ROLLBACK_DUE = "rollback_due"


@dataclass(frozen=True, slots=True)
class ModelEvaluation:
    """A business value judged against its contract."""

    metric: str
    value: float
    verdict: Verdict
    target: float
    rollback_threshold: float
    guardrails: tuple[GuardrailResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "verdict": self.verdict.value,
            "target": self.target,
            "rollback_threshold": self.rollback_threshold,
            "guardrails": [result.to_dict() for result in self.guardrails],
        }


def evaluate(
    impact: BusinessImpact, value: float, guardrail_values: Mapping[str, float] | None = None
) -> ModelEvaluation:
    """Judge `value` of the contract's metric: target achieved, within band or rollback due.

    Guardrails with an observed value are reported; a guardrail without one is left out.
    """
    if impact.should_rollback(value):
        verdict = Verdict.ROLLBACK_DUE
    elif impact.target_achieved(value):
        verdict = Verdict.TARGET_ACHIEVED
    else:
        verdict = Verdict.WITHIN_BAND
    observed = guardrail_values or {}
    results = tuple(
        GuardrailResult(g, observed[g.metric]) for g in impact.guardrails if g.metric in observed
    )
    return ModelEvaluation(
        impact.metric, value, verdict, impact.target, impact.rollback_threshold, results
    )


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of paired values; None with fewer than 3 pairs or a constant side."""
    if len(xs) != len(ys):
        raise InvalidInput("pairs", "both sides must have the same number of values")
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return statistics.correlation(list(xs), list(ys))
