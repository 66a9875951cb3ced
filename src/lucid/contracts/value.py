"""The value contract: every model is tied to the business result it must deliver.

A `BusinessImpact` says which business metric a model must move, from which baseline to which
target, and under which value it must be rolled back. A model version climbs the stages
candidate → challenger → production → archived; the `promotion_gate` lets a version into
production only with `Evidence` (an experiment result on the contract's metric that reaches the
target with the required significance and holds every guardrail) or with an approver's
`Override`. Everything here is pure: no I/O, only the standard library.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from lucid.errors import Conflict, Forbidden, InvalidInput

MODEL_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
DEFAULT_SKEW_LIMIT = 0.02
"""The largest training-serving mismatch rate a pinned feature may show at promotion."""

PINNED_FEATURE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)@(?P<version>\d+(?:\.\d+){0,2})$")
_PERIOD = re.compile(r"^(?P<count>[1-9]\d*)(?P<unit>[hdw])$")
_PERIOD_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class Direction(StrEnum):
    """Which way a business metric must move: `higher` (retention) or `lower` (churn, cost)."""

    HIGHER = "higher"
    LOWER = "lower"

    def better(self, value: float, than: float) -> bool:
        """True when `value` is strictly better than `than` in this direction."""
        return value > than if self is Direction.HIGHER else value < than

    def at_least_as_good(self, value: float, as_: float) -> bool:
        """True when `value` is as good as `as_` or better."""
        return value >= as_ if self is Direction.HIGHER else value <= as_

    def gain(self, before: float, after: float) -> float:
        """The improvement from `before` to `after`, positive when it got better."""
        return after - before if self is Direction.HIGHER else before - after


class Stage(StrEnum):
    """The life of a model version in the registry."""

    CANDIDATE = "candidate"
    CHALLENGER = "challenger"
    PRODUCTION = "production"
    ARCHIVED = "archived"


PROMOTIONS: Mapping[Stage, frozenset[Stage]] = {
    Stage.CANDIDATE: frozenset({Stage.CHALLENGER, Stage.ARCHIVED}),
    Stage.CHALLENGER: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}
"""Stage → the stages a person may move a version to. A production version leaves production
only when another version replaces it or by rollback; an archived version serves again only
through a rollback."""


def finite(value: object, field_name: str) -> float:
    """`value` as a finite float, or a sentence naming `field_name`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field_name, f"must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field_name, f"must be a finite number, not {number}")
    return number


def text(value: object, field_name: str) -> str:
    """`value` as non-blank text, or a sentence naming `field_name`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field_name, f"must be non-empty text, not {value!r}")
    return value.strip()


def validate_model_name(name: str) -> str:
    """A model name: lower-case letters, digits, '_' or '-', starting with a letter."""
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInput(
            "name",
            f"{name!r} must be 1-100 lower-case letters, digits, '_' or '-', starting with a "
            "letter (e.g. churn)",
        )
    return name


def validate_pinned_feature(pin: str) -> str:
    """A pinned feature version written `name@version`, e.g. `customer_activity_30d@2`.

    Only the format is checked here: the feature store resolves the pin when it exists.
    """
    if not isinstance(pin, str) or not PINNED_FEATURE.match(pin):
        raise InvalidInput(
            "features",
            f"{pin!r} must be a pinned feature version written name@version, "
            "e.g. customer_activity_30d@2",
        )
    return pin


def parse_period(period: str) -> timedelta:
    """A measurement period written `<count><h|d|w>` (e.g. `30d`) as a duration."""
    match = _PERIOD.match(period.strip()) if isinstance(period, str) else None
    if match is None:
        raise InvalidInput(
            "measurement_period",
            f"{period!r} must be a positive count of hours, days or weeks, e.g. 30d, 12h, 4w",
        )
    return int(match["count"]) * _PERIOD_UNITS[match["unit"]]


class GuardrailBound(StrEnum):
    """A cap (the metric must stay at or under the limit) or a floor (at or over it)."""

    CAP = "cap"
    FLOOR = "floor"


@dataclass(frozen=True, slots=True)
class Guardrail:
    """Another metric a model must not break while it moves the business metric.

    E.g. compute cost ≤ 495 per day (a cap), precision ≥ 0.6 (a floor).
    """

    metric: str
    bound: GuardrailBound
    limit: float

    def __post_init__(self) -> None:
        text(self.metric, "guardrails.metric")
        object.__setattr__(self, "bound", GuardrailBound(self.bound))
        finite(self.limit, f"guardrails.{self.metric}.{self.bound.value}")

    def holds(self, value: float) -> bool:
        """True when `value` respects the cap or floor (the limit itself is allowed)."""
        return value <= self.limit if self.bound is GuardrailBound.CAP else value >= self.limit

    def describe(self) -> str:
        sign = "≤" if self.bound is GuardrailBound.CAP else "≥"
        return f"{self.metric} {sign} {self.limit:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, self.bound.value: self.limit}

    @classmethod
    def from_mapping(cls, raw: object) -> Guardrail:
        """Read `{metric: NAME, cap: NUMBER}` or `{metric: NAME, floor: NUMBER}`."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("guardrails", f"each guardrail must be a mapping, not {raw!r}")
        metric = text(raw.get("metric"), "guardrails.metric")
        bounds = [bound for bound in GuardrailBound if bound.value in raw]
        unknown = sorted(set(raw) - {"metric", "cap", "floor"})
        if unknown:
            raise InvalidInput(f"guardrails.{metric}", f"has unknown key(s) {', '.join(unknown)}")
        if len(bounds) != 1:
            raise InvalidInput(
                f"guardrails.{metric}", "must give exactly one of cap or floor, e.g. cap: 495"
            )
        bound = bounds[0]
        return cls(metric, bound, finite(raw[bound.value], f"guardrails.{metric}.{bound.value}"))


_IMPACT_KEYS = {
    "metric",
    "direction",
    "baseline",
    "target",
    "measurement_period",
    "rollback_threshold",
    "rationale",
    "guardrails",
    "alpha",
    "value_per_unit",
}


@dataclass(frozen=True, slots=True)
class BusinessImpact:
    """The business result a model must deliver: the contract no model is registered without.

    `baseline`, `target` and `rollback_threshold` are in the unit of `metric`. Higher is better
    → rollback threshold < baseline < target; lower is better → target < baseline < rollback
    threshold. `alpha` is the significance the promotion evidence must reach (p ≤ alpha).
    `value_per_unit`, when set, is what one unit of the metric's gain is worth per
    measurement period (in the project's currency), for the portfolio's value per model.
    """

    metric: str
    direction: Direction
    baseline: float
    target: float
    measurement_period: str
    rollback_threshold: float
    rationale: str
    guardrails: tuple[Guardrail, ...] = ()
    alpha: float = 0.05
    value_per_unit: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", text(self.metric, "metric"))
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise InvalidInput(
                "direction", f"must be 'higher' or 'lower' (is better), not {self.direction!r}"
            ) from None
        for name in ("baseline", "target", "rollback_threshold", "alpha"):
            object.__setattr__(self, name, finite(getattr(self, name), name))
        parse_period(self.measurement_period)
        object.__setattr__(self, "rationale", text(self.rationale, "rationale"))
        object.__setattr__(self, "guardrails", tuple(self.guardrails))
        if self.value_per_unit is not None:
            object.__setattr__(
                self, "value_per_unit", finite(self.value_per_unit, "value_per_unit")
            )
        if not 0 < self.alpha < 1:
            raise InvalidInput("alpha", f"must be between 0 and 1 (exclusive), not {self.alpha}")
        self._check_order()
        metrics = [guardrail.metric for guardrail in self.guardrails]
        if self.metric in metrics:
            raise InvalidInput(
                "guardrails", f"{self.metric} is the contract's metric and cannot guard itself"
            )
        if len(set(metrics)) != len(metrics):
            raise InvalidInput("guardrails", "each metric may have one guardrail only")

    def _check_order(self) -> None:
        baseline, target, rollback = self.baseline, self.target, self.rollback_threshold
        if self.direction is Direction.HIGHER:
            if not target > baseline:
                raise InvalidInput(
                    "target",
                    f"must be above the baseline {baseline:g} when higher is better "
                    f"(got {target:g})",
                )
            if not rollback < baseline:
                raise InvalidInput(
                    "rollback_threshold",
                    f"must be below the baseline {baseline:g} when higher is better "
                    f"(got {rollback:g})",
                )
        else:
            if not target < baseline:
                raise InvalidInput(
                    "target",
                    f"must be below the baseline {baseline:g} when lower is better "
                    f"(got {target:g})",
                )
            if not rollback > baseline:
                raise InvalidInput(
                    "rollback_threshold",
                    f"must be above the baseline {baseline:g} when lower is better "
                    f"(got {rollback:g})",
                )

    @property
    def period(self) -> timedelta:
        """The measurement period as a duration."""
        return parse_period(self.measurement_period)

    def target_achieved(self, value: float) -> bool:
        """True when `value` reaches the target (the target itself counts)."""
        return self.direction.at_least_as_good(finite(value, "value"), self.target)

    def should_rollback(self, value: float) -> bool:
        """True when `value` is strictly worse than the rollback threshold."""
        return self.direction.better(self.rollback_threshold, finite(value, "value"))

    def guardrail(self, metric: str) -> Guardrail | None:
        return next((g for g in self.guardrails if g.metric == metric), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "direction": self.direction.value,
            "baseline": self.baseline,
            "target": self.target,
            "measurement_period": self.measurement_period,
            "rollback_threshold": self.rollback_threshold,
            "rationale": self.rationale,
            "guardrails": [guardrail.to_dict() for guardrail in self.guardrails],
            "alpha": self.alpha,
            "value_per_unit": self.value_per_unit,
        }

    @classmethod
    def from_mapping(cls, raw: object) -> BusinessImpact:
        """Read a contract as written in YAML or JSON; every problem is one sentence."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("contract", f"must be a mapping of fields, not {raw!r}")
        unknown = sorted(set(raw) - _IMPACT_KEYS)
        if unknown:
            raise InvalidInput("contract", f"has unknown field(s) {', '.join(map(str, unknown))}")
        required = ("metric", "direction", "baseline", "target", "measurement_period")
        for name in (*required, "rollback_threshold", "rationale"):
            if raw.get(name) is None:
                raise InvalidInput(name, "is required in a business-impact contract")
        guardrails = raw.get("guardrails") or []
        if not isinstance(guardrails, list | tuple):
            raise InvalidInput("guardrails", f"must be a list, not {guardrails!r}")
        value_per_unit = raw.get("value_per_unit")
        return cls(
            metric=text(raw["metric"], "metric"),
            direction=raw["direction"],
            baseline=finite(raw["baseline"], "baseline"),
            target=finite(raw["target"], "target"),
            measurement_period=text(raw["measurement_period"], "measurement_period"),
            rollback_threshold=finite(raw["rollback_threshold"], "rollback_threshold"),
            rationale=text(raw["rationale"], "rationale"),
            guardrails=tuple(Guardrail.from_mapping(item) for item in guardrails),
            alpha=finite(raw.get("alpha", 0.05), "alpha"),
            value_per_unit=None
            if value_per_unit is None
            else finite(value_per_unit, "value_per_unit"),
        )


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm of an experiment: who it served, how many units, the metric's measured value."""

    name: str
    sample_size: int
    value: float

    def __post_init__(self) -> None:
        text(self.name, "arms.name")
        if isinstance(self.sample_size, bool) or not isinstance(self.sample_size, int):
            raise InvalidInput(f"arms.{self.name}.sample_size", "must be a whole number")
        if self.sample_size < 1:
            raise InvalidInput(
                f"arms.{self.name}.sample_size", f"must be at least 1, not {self.sample_size}"
            )
        finite(self.value, f"arms.{self.name}.value")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sample_size": self.sample_size, "value": self.value}


@dataclass(frozen=True, slots=True)
class Evidence:
    """An experiment result on a business metric, as the promotion gate reads it.

    `effect` is treatment value minus control value in the metric's unit, with its confidence
    interval [`ci_low`, `ci_high`] at `confidence` (e.g. 0.95); `p_value` is the test's
    two-sided p-value; `alpha` the significance level the experiment was designed for.
    `guardrail_values` are the treatment arm's measured guardrail metrics; the gate judges
    them against the contract, so a record cannot declare its own guardrails held. `source`
    says where it comes from (an experiment id, a notebook, a report).
    """

    metric: str
    control: Arm
    treatment: Arm
    effect: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    alpha: float
    source: str
    guardrail_values: Mapping[str, float] = field(default_factory=dict)
    test: str = "two-proportion z-test"

    def __post_init__(self) -> None:
        text(self.metric, "evidence.metric")
        text(self.source, "evidence.source")
        text(self.test, "evidence.test")
        for name in ("effect", "ci_low", "ci_high", "confidence", "p_value", "alpha"):
            finite(getattr(self, name), f"evidence.{name}")
        if not self.ci_low <= self.effect <= self.ci_high:
            raise InvalidInput(
                "evidence.effect",
                f"{self.effect:g} must lie inside its confidence interval "
                f"[{self.ci_low:g}, {self.ci_high:g}]",
            )
        if not 0 <= self.p_value <= 1:
            raise InvalidInput("evidence.p_value", f"must be between 0 and 1, not {self.p_value}")
        if not 0 < self.alpha < 1:
            raise InvalidInput("evidence.alpha", f"must be between 0 and 1, not {self.alpha}")
        if not 0 < self.confidence < 1:
            raise InvalidInput(
                "evidence.confidence", f"must be between 0 and 1, not {self.confidence}"
            )
        for metric, value in self.guardrail_values.items():
            finite(value, f"evidence.guardrail_values.{metric}")
        object.__setattr__(self, "guardrail_values", dict(self.guardrail_values))

    def guardrail_results(self, impact: BusinessImpact) -> list[GuardrailResult]:
        """Each of the contract's guardrails judged on this evidence's measured values."""
        return [
            GuardrailResult(guardrail, self.guardrail_values.get(guardrail.metric))
            for guardrail in impact.guardrails
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "control": self.control.to_dict(),
            "treatment": self.treatment.to_dict(),
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "source": self.source,
            "guardrail_values": dict(self.guardrail_values),
            "test": self.test,
        }

    @classmethod
    def from_mapping(cls, raw: object) -> Evidence:
        """Read an evidence record as written in YAML or JSON (see `to_dict`)."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("evidence", f"must be a mapping of fields, not {raw!r}")
        for name in ("metric", "control", "treatment", "effect", "ci_low", "ci_high"):
            if raw.get(name) is None:
                raise InvalidInput(f"evidence.{name}", "is required")
        for name in ("confidence", "p_value", "alpha", "source"):
            if raw.get(name) is None:
                raise InvalidInput(f"evidence.{name}", "is required")
        guardrails = raw.get("guardrail_values") or {}
        if not isinstance(guardrails, Mapping):
            raise InvalidInput("evidence.guardrail_values", "must map metric names to values")
        return cls(
            metric=text(raw["metric"], "evidence.metric"),
            control=_arm(raw["control"], "control"),
            treatment=_arm(raw["treatment"], "treatment"),
            effect=finite(raw["effect"], "evidence.effect"),
            ci_low=finite(raw["ci_low"], "evidence.ci_low"),
            ci_high=finite(raw["ci_high"], "evidence.ci_high"),
            confidence=finite(raw["confidence"], "evidence.confidence"),
            p_value=finite(raw["p_value"], "evidence.p_value"),
            alpha=finite(raw["alpha"], "evidence.alpha"),
            source=text(raw["source"], "evidence.source"),
            guardrail_values={
                str(k): finite(v, f"evidence.guardrail_values.{k}") for k, v in guardrails.items()
            },
            test=text(raw.get("test", "two-proportion z-test"), "evidence.test"),
        )


def _arm(raw: object, role: str) -> Arm:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"evidence.{role}", "must be a mapping with name, sample_size, value")
    sample_size = raw.get("sample_size")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int):
        raise InvalidInput(
            f"evidence.{role}.sample_size", f"must be a whole number, not {sample_size!r}"
        )
    return Arm(
        name=text(raw.get("name"), f"evidence.{role}.name"),
        sample_size=sample_size,
        value=finite(raw.get("value"), f"evidence.{role}.value"),
    )


@dataclass(frozen=True, slots=True)
class GuardrailResult:
    """A guardrail judged on a measured value; a missing value does not hold."""

    guardrail: Guardrail
    value: float | None

    @property
    def held(self) -> bool:
        return self.value is not None and self.guardrail.holds(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "guardrail": self.guardrail.describe(),
            "value": self.value,
            "held": self.held,
        }


@dataclass(frozen=True, slots=True)
class Override:
    """A person with the approver role letting a version into production without evidence."""

    approver: str
    rationale: str

    def __post_init__(self) -> None:
        if not isinstance(self.approver, str) or not self.approver.strip():
            raise InvalidInput("override.approver", "must name the approving person")
        if not isinstance(self.rationale, str) or not self.rationale.strip():
            raise InvalidInput(
                "override.rationale", "must say why the evidence requirement is overridden"
            )


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Why the gate let a version into production: `evidence` or `override`."""

    basis: str
    summary: str
    evidence_problem: str | None = None


def judge_evidence(impact: BusinessImpact, evidence: Evidence | None, treatment: str) -> str | None:
    """The first reason `evidence` does not prove `impact` for `treatment`, or None if it does.

    `treatment` names the version under test (`churn@3`): the evidence's treatment arm must be
    it. Proof means: same metric, the treatment's measured value reaches the target, the effect
    is significant (p ≤ the contract's alpha, and the experiment's own alpha no looser) with
    its whole confidence interval on the good side, and every guardrail held.
    """
    if evidence is None:
        return f"{treatment} has no evidence attached"
    if evidence.metric != impact.metric:
        return (
            f"the evidence measures {evidence.metric} but the contract's metric is {impact.metric}"
        )
    if evidence.treatment.name != treatment:
        return f"the evidence's treatment arm is {evidence.treatment.name}, not {treatment}"
    if not impact.target_achieved(evidence.treatment.value):
        return (
            f"the treatment's {impact.metric} {evidence.treatment.value:g} misses the target "
            f"{impact.target:g} ({impact.direction.value} is better)"
        )
    if evidence.alpha > impact.alpha:
        return (
            f"the experiment's alpha {evidence.alpha:g} is looser than the contract's "
            f"{impact.alpha:g}"
        )
    if evidence.p_value > impact.alpha:
        return f"the effect is not significant: p = {evidence.p_value:.4g} > alpha {impact.alpha:g}"
    favourable = (
        evidence.ci_low > 0 if impact.direction is Direction.HIGHER else evidence.ci_high < 0
    )
    if not favourable:
        return (
            f"the effect's confidence interval [{evidence.ci_low:g}, {evidence.ci_high:g}] "
            f"does not lie wholly on the {impact.direction.value}-is-better side of 0"
        )
    for result in evidence.guardrail_results(impact):
        if result.value is None:
            guarded = result.guardrail.describe()
            return f"the evidence has no measured value for the guardrail {guarded}"
        if not result.held:
            return f"the guardrail {result.guardrail.describe()} is broken ({result.value:g})"
    return None


def check_transition(current: Stage, wanted: Stage, version_label: str) -> None:
    """Refuse a stage change a person may not make (see `PROMOTIONS`)."""
    if wanted == current:
        raise Conflict(f"{version_label} is already {current.value}; nothing changed.")
    if wanted not in PROMOTIONS[current]:
        allowed = ", ".join(sorted(s.value for s in PROMOTIONS[current])) or "no other stage"
        raise Conflict(
            f"{version_label} is {current.value} and may move only to {allowed}, "
            f"not to {wanted.value}; nothing changed."
        )


def promotion_gate(
    *,
    version_label: str,
    current: Stage,
    wanted: Stage,
    impact: BusinessImpact | None,
    evidence: Evidence | None,
    frozen_reason: str | None,
    override: Override | None,
    approvers: Sequence[str],
    registered_by: str,
    feature_skew: Mapping[str, float] | None = None,
    skew_limit: float = DEFAULT_SKEW_LIMIT,
) -> GateDecision:
    """Decide whether `version_label` may move from `current` to `wanted`, or raise why not.

    Order of refusal: no contract, freeze, illegal stage change; then, for production only,
    training-serving skew of the pinned features above `skew_limit` (a share; an override does
    not lift it: skewed features make every evidence moot), then the evidence — or, when an
    override is given, the approver role and the four-eyes rule (the approver did not register
    the version). `feature_skew` maps each pinned feature with served values to its measured
    mismatch rate; features never served are not judged.
    """
    if impact is None:
        raise Conflict(
            f"{version_label} has no business-impact contract and can never be promoted; "
            "nothing changed."
        )
    if frozen_reason is not None:
        raise Conflict(
            f"{version_label.split('@')[0]} is frozen ({frozen_reason}): every promotion is "
            "blocked until it is unfrozen; nothing changed."
        )
    check_transition(current, wanted, version_label)
    if wanted is not Stage.PRODUCTION:
        return GateDecision("stage", f"{current.value} → {wanted.value}")
    skewed = {feature: rate for feature, rate in (feature_skew or {}).items() if rate > skew_limit}
    if skewed:
        listed = ", ".join(f"{feature} {rate:.1%}" for feature, rate in sorted(skewed.items()))
        raise Conflict(
            f"{version_label} may not enter production: its features skew between training and "
            f"serving beyond {skew_limit:.1%} ({listed}); fix serving first, nothing changed."
        )
    problem = judge_evidence(impact, evidence, version_label)
    if override is None:
        if problem is not None:
            raise Conflict(
                f"{version_label} may not enter production: {problem}. Attach evidence that "
                "meets the contract or have an approver override; nothing changed."
            )
        assert evidence is not None
        return GateDecision(
            "evidence",
            f"{impact.metric} {evidence.treatment.value:g} reaches the target "
            f"{impact.target:g}, p = {evidence.p_value:.4g} ≤ {impact.alpha:g} "
            f"({evidence.source})",
        )
    approver = override.approver.strip()
    if approver not in {a.strip() for a in approvers}:
        listed = ", ".join(approvers) or "nobody"
        raise Forbidden(
            f"override.approver: {approver} is not an approver of this project (approvers: "
            f"{listed}); nothing changed."
        )
    if approver == registered_by.strip():
        raise Forbidden(
            f"override.approver: {approver} registered {version_label} and may not also approve "
            "its override (four-eyes rule); nothing changed."
        )
    return GateDecision("override", override.rationale.strip(), evidence_problem=problem)


class Verdict(StrEnum):
    """What an observed business value means for the version that produced it."""

    TARGET_ACHIEVED = "target_achieved"
    WITHIN_BAND = "within_band"
    ROLLBACK_DUE = "rollback_due"


@dataclass(frozen=True, slots=True)
class Evaluation:
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
) -> Evaluation:
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
    return Evaluation(
        impact.metric, value, verdict, impact.target, impact.rollback_threshold, results
    )


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of paired values; None with fewer than 3 pairs or a constant side."""
    if len(xs) != len(ys):
        raise InvalidInput("pairs", "both sides must have the same number of values")
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return statistics.correlation(list(xs), list(ys))
