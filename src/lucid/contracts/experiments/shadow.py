"""Shadow comparisons: a challenger scores the same requests as production without acting on
them; once their outcomes matured, paired tests on the same rows become predictive evidence.

`ShadowDesign` is what a comparison tests (the metrics, the contract's alpha, the minimum
pairs, the action budget), `maturity` says whether enough outcomes matured to conclude, and
`predictive_evidence` turns one paired test into the evidence record the gate reads. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lucid.contracts.events import DomainEvent, Subject, event_type
from lucid.contracts.experiments.assignment import validate_experiment_id
from lucid.contracts.experiments.paired import NO_MODEL, PairedTest
from lucid.contracts.value import Evidence, finite
from lucid.contracts.value.evidence import Arm
from lucid.contracts.value.rule import PREDICTIVE_METRICS, EvidenceKind, Origin
from lucid.errors import InvalidInput

MINIMUM_CLASS_COUNT = 10
"""Positives and negatives a comparison needs among its matured pairs to conclude."""

DEFAULT_MINIMUM_PAIRS = 200
"""Pairs with a matured outcome a comparison needs by default."""


@dataclass(frozen=True, slots=True)
class ShadowDesign:
    """A challenger version scored in the shadow of `model`'s production version.

    `control_version` None means no version served production when the comparison started:
    the control is "no model" (a random ranking). `alpha` is the contract's; `minimum_pairs`
    the matured pairs needed to conclude; `budget_share` the share of rows the action budget
    reaches (precision at the budget).
    """

    comparison_id: str
    model: str
    control_version: int | None
    challenger_version: int
    metrics: tuple[str, ...]
    alpha: float
    minimum_pairs: int = DEFAULT_MINIMUM_PAIRS
    budget_share: float = 0.05

    def __post_init__(self) -> None:
        validate_experiment_id(self.comparison_id)
        object.__setattr__(self, "metrics", check_metrics(self.metrics))
        alpha = finite(self.alpha, "alpha")
        if not 0 < alpha < 1:
            raise InvalidInput("alpha", f"must be between 0 and 1, not {alpha}")
        pairs = self.minimum_pairs
        if isinstance(pairs, bool) or not isinstance(pairs, int) or pairs < 2 * MINIMUM_CLASS_COUNT:
            raise InvalidInput(
                "minimum_pairs",
                f"must be a whole number of at least {2 * MINIMUM_CLASS_COUNT}, not {pairs!r}",
            )
        share = finite(self.budget_share, "budget_share")
        if not 0 < share <= 1:
            raise InvalidInput("budget_share", f"must be in (0, 1], not {share}")

    @property
    def control_label(self) -> str:
        """`churn@2`, or "no model" when nothing served production."""
        if self.control_version is None:
            return NO_MODEL
        return f"{self.model}@{self.control_version}"

    @property
    def challenger_label(self) -> str:
        return f"{self.model}@{self.challenger_version}"

    @property
    def seed(self) -> int:
        """The bootstrap's seed, fixed by the comparison's id (reproducible conclusions)."""
        return int(hashlib.sha256(self.comparison_id.encode("utf-8")).hexdigest()[:8], 16)

    def to_dict(self) -> dict[str, Any]:
        return {
            "comparison_id": self.comparison_id,
            "model": self.model,
            "control_version": self.control_version,
            "challenger_version": self.challenger_version,
            "metrics": list(self.metrics),
            "alpha": self.alpha,
            "minimum_pairs": self.minimum_pairs,
            "budget_share": self.budget_share,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ShadowDesign:
        return cls(
            comparison_id=raw["comparison_id"],
            model=raw["model"],
            control_version=raw["control_version"],
            challenger_version=raw["challenger_version"],
            metrics=tuple(raw["metrics"]),
            alpha=raw["alpha"],
            minimum_pairs=raw["minimum_pairs"],
            budget_share=raw["budget_share"],
        )


def check_metrics(metrics: Iterable[str]) -> tuple[str, ...]:
    """One or more distinct predictive metrics (auc, log_loss, precision_at_budget)."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    chosen = tuple(metrics)
    if not chosen:
        raise InvalidInput("metrics", "must name at least one predictive metric")
    for metric in chosen:
        if metric not in PREDICTIVE_METRICS:
            raise InvalidInput(
                "metrics",
                f"{metric!r} is not a predictive metric (one of {', '.join(PREDICTIVE_METRICS)})",
            )
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("metrics", "names a metric twice")
    return chosen


def maturity(pairs: int, positives: int, minimum_pairs: int) -> str | None:
    """Why the matured pairs cannot conclude yet, or None when they can: fewer than
    `minimum_pairs` pairs with an outcome, or fewer than 10 positives or 10 negatives."""
    negatives = pairs - positives
    if pairs < minimum_pairs:
        return f"{pairs} pairs have a matured outcome, fewer than the {minimum_pairs} required"
    if positives < MINIMUM_CLASS_COUNT or negatives < MINIMUM_CLASS_COUNT:
        return (
            f"{positives} positives and {negatives} negatives matured; each class needs at "
            f"least {MINIMUM_CLASS_COUNT}"
        )
    return None


def predictive_evidence(
    design: ShadowDesign, test: PairedTest, *, source: str, produced_at: str
) -> Evidence:
    """The predictive evidence of one paired test: produced by Lucid, challenger − control."""
    return Evidence(
        metric=test.metric,
        control=Arm(design.control_label, test.pairs, test.control),
        treatment=Arm(design.challenger_label, test.pairs, test.challenger),
        effect=test.effect,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        confidence=test.confidence,
        p_value=test.p_value,
        alpha=design.alpha,
        source=source,
        test=test.test,
        kind=EvidenceKind.PREDICTIVE,
        origin=Origin.LUCID,
        direction=PREDICTIVE_METRICS[test.metric],
        design=design.to_dict(),
        data=test.to_dict(),
        produced_at=produced_at,
    )


def shadow_subject(comparison_id: str) -> Subject:
    """The subject of every event about the shadow comparison `comparison_id`."""
    return Subject("shadow", comparison_id)


@event_type("ShadowStarted")
@dataclass(frozen=True)
class ShadowStarted(DomainEvent):
    """A challenger began scoring production's requests in the shadow (design attached)."""

    comparison_id: str
    design: dict[str, Any]


@event_type("ShadowScoresLogged")
@dataclass(frozen=True)
class ShadowScoresLogged(DomainEvent):
    """A batch of the challenger's shadow scores was logged (count; rows in `shadow_scores`)."""

    comparison_id: str
    scores: int


@event_type("ShadowConcluded")
@dataclass(frozen=True)
class ShadowConcluded(DomainEvent):
    """A shadow comparison was concluded; its predictive evidence went to the challenger."""

    comparison_id: str
    evidence: list[dict[str, Any]]


@event_type("ShadowBacktested")
@dataclass(frozen=True)
class ShadowBacktested(DomainEvent):
    """Both versions scored the same labelled point-in-time rows; the paired tests' evidence
    went to the challenger."""

    model: str
    control_version: int | None
    challenger_version: int
    evidence: list[dict[str, Any]]
