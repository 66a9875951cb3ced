"""The business-impact contract: which metric a model must move, how far, and its guardrails.

A `BusinessImpact` says which business metric a model must move, from which baseline to which
target, and under which value it must be rolled back; `Guardrail`s are other metrics it must
not break meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.value.direction import Direction
from lucid.contracts.value.fields import finite, text
from lucid.contracts.value.rule import DEFAULT_RULE, EvidenceClause, parse_rule
from lucid.errors import InvalidInput

_PERIOD = re.compile(r"(?P<count>[1-9][0-9]{0,5})(?P<unit>[hdw])")
_PERIOD_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_period(period: str) -> timedelta:
    """A measurement period written `<count><h|d|w>` (e.g. `30d`) as a duration."""
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
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


GUARDRAIL_KEYS = ("metric", "cap", "floor")
"""The fields of one guardrail: its metric and exactly one of cap or floor."""


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
        refuse_unknown_keys(raw, GUARDRAIL_KEYS, f"guardrails.{metric}")
        if len(bounds) != 1:
            raise InvalidInput(
                f"guardrails.{metric}", "must give exactly one of cap or floor, e.g. cap: 495"
            )
        bound = bounds[0]
        return cls(metric, bound, finite(raw[bound.value], f"guardrails.{metric}.{bound.value}"))


IMPACT_KEYS = {
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
    "evidence_rule",
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
    evidence_rule: tuple[EvidenceClause, ...] = DEFAULT_RULE

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", text(self.metric, "metric"))
        object.__setattr__(self, "evidence_rule", tuple(self.evidence_rule) or DEFAULT_RULE)
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
    def minimum_effect(self) -> float:
        """The gain the contract asks for, |target - baseline|: the effect a business test
        of superiority is powered to detect."""
        return abs(self.target - self.baseline)

    @property
    def rollback_margin(self) -> float:
        """|baseline - rollback_threshold|: how much worse a challenger may be before the
        contract would roll it back; the default non-inferiority margin."""
        return abs(self.baseline - self.rollback_threshold)

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
            "evidence_rule": [clause.to_dict() for clause in self.evidence_rule],
        }

    @classmethod
    def from_mapping(cls, raw: object) -> BusinessImpact:
        """Read a contract as written in YAML or JSON; every problem is one sentence."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("contract", f"must be a mapping of fields, not {raw!r}")
        refuse_unknown_keys(raw, IMPACT_KEYS, "contract")
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
            evidence_rule=parse_rule(raw.get("evidence_rule")),
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
