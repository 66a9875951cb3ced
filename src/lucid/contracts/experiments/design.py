"""What an experiment tests and how it will decide (`Design`): its comparison, the effect it
is powered for, its minimum sample and the days it needs; and where it stands."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lucid.contracts.experiments.assignment import CHALLENGER, check_share, validate_experiment_id
from lucid.contracts.experiments.sample_size import (
    SampleSize,
    minimum_sample_size,
    minimum_sample_size_means,
    shrink,
)
from lucid.contracts.experiments.statistics import DEFAULT_SRM_THRESHOLD
from lucid.contracts.value import Comparison, Direction, Guardrail, finite
from lucid.errors import InvalidInput

RUNNING = "running"
"""An experiment's status from its creation until it is concluded."""
CONCLUDED = "concluded"


@dataclass(frozen=True, slots=True)
class Design:
    """What an experiment tests and how it will decide.

    `comparison` is superiority (the challenger is better than the control) or non-inferiority
    (it is no worse than `margin`, metric units, positive). `minimum_detectable_effect` (metric
    units, positive) is the effect the test is powered for: the contract's minimum effect for
    superiority, the margin for non-inferiority. `baseline` is the control's expected mean;
    `metric_sd` the per-entity standard deviation of a numeric metric, None for a 0/1 metric
    (its deviation follows from the baseline). `covariate_correlation` rho (CUPED, a pre-period
    covariate) shrinks the sample by 1 - rho². `entities_per_day` (entities exposed per day,
    both arms) and `planned_days` give the duration: a design that cannot reach its sample at
    its share within the planned days is refused. `srm_threshold` is the p-value under which a
    sample-ratio mismatch invalidates the result.
    """

    experiment_id: str
    model: str
    control_version: int
    challenger_version: int
    metric: str
    direction: Direction
    guardrails: tuple[Guardrail, ...]
    salt: str
    challenger_share: float
    baseline: float
    minimum_detectable_effect: float
    alpha: float = 0.05
    power: float = 0.8
    sequential: bool = False
    srm_threshold: float = DEFAULT_SRM_THRESHOLD
    comparison: Comparison = Comparison.SUPERIORITY
    margin: float | None = None
    metric_sd: float | None = None
    covariate_correlation: float = 0.0
    entities_per_day: float | None = None
    planned_days: float | None = None

    def __post_init__(self) -> None:
        validate_experiment_id(self.experiment_id)
        if self.control_version == self.challenger_version:
            raise InvalidInput("challenger", "must be another version than the control")
        if not isinstance(self.salt, str) or not self.salt.strip():
            raise InvalidInput("salt", "must be non-empty text")
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "comparison", Comparison(self.comparison))
        check_share(self.challenger_share)
        check_share(self.srm_threshold, "srm_threshold")
        check_share(self.alpha, "alpha")
        check_share(self.power, "power")
        effect = finite(self.minimum_detectable_effect, "minimum_detectable_effect")
        if effect <= 0:
            raise InvalidInput(
                "minimum_detectable_effect",
                f"must be a positive size of effect in the metric's unit, not {effect:g}",
            )
        if self.comparison is Comparison.NON_INFERIORITY:
            if self.margin is None or finite(self.margin, "margin") <= 0:
                raise InvalidInput("margin", "a non-inferiority test needs a positive margin")
        elif self.margin is not None:
            raise InvalidInput("margin", "only a non-inferiority test has a margin")
        for name in ("entities_per_day", "planned_days"):
            value = getattr(self, name)
            if value is not None and finite(value, name) <= 0:
                raise InvalidInput(name, f"must be positive, not {value!r}")
        self.minimum_sample()  # checks baseline, metric_sd, effect and correlation
        self._check_duration()

    @property
    def control_label(self) -> str:
        return f"{self.model}@{self.control_version}"

    @property
    def challenger_label(self) -> str:
        return f"{self.model}@{self.challenger_version}"

    @property
    def binary(self) -> bool:
        """A 0/1 metric: its standard deviation follows from the baseline."""
        return self.metric_sd is None

    def version_of(self, arm: str) -> int:
        return self.challenger_version if arm == CHALLENGER else self.control_version

    def minimum_sample(self, challenger_share: float | None = None) -> SampleSize:
        """Entities with an outcome each arm needs (after CUPED's shrinkage, if any)."""
        share = self.challenger_share if challenger_share is None else challenger_share
        if self.binary:
            # Power at the worse side for non-inferiority, the better side for superiority;
            # the other side when that one leaves (0, 1) (a rate near 1 cannot rise by it).
            sign = 1.0 if self.comparison is Comparison.SUPERIORITY else -1.0
            if self.direction is Direction.LOWER:
                sign = -sign
            if not 0 < self.baseline + sign * self.minimum_detectable_effect < 1:
                sign = -sign
            raw = minimum_sample_size(
                self.baseline,
                sign * self.minimum_detectable_effect,
                challenger_share=share,
                alpha=self.alpha,
                power=self.power,
            )
        else:
            assert self.metric_sd is not None
            raw = minimum_sample_size_means(
                self.metric_sd,
                self.minimum_detectable_effect,
                challenger_share=share,
                alpha=self.alpha,
                power=self.power,
            )
        return shrink(raw, self.covariate_correlation) if self.covariate_correlation else raw

    def days_needed(self, challenger_share: float | None = None) -> float | None:
        """Days of traffic (at `entities_per_day`) until both arms reach their sample."""
        if self.entities_per_day is None:
            return None
        share = self.challenger_share if challenger_share is None else challenger_share
        need = self.minimum_sample(share)
        per_day = float(self.entities_per_day)
        return max(need.challenger / (share * per_day), need.control / ((1 - share) * per_day))

    def _check_duration(self) -> None:
        days = self.days_needed()
        if days is None or self.planned_days is None or days <= self.planned_days:
            return
        need = self.minimum_sample()
        planned = float(self.planned_days)
        proposal = self._smallest_share(planned)
        if proposal is not None:
            offer = f"a challenger share of {proposal:g} reaches it within {planned:g} days"
        else:
            half = self.days_needed(0.5)
            assert half is not None
            offer = (
                f"no share up to 0.5 reaches it within {planned:g} days; at share 0.5 it "
                f"needs {math.ceil(half)} days"
            )
        raise InvalidInput(
            "planned_days",
            f"the test needs {need.challenger} challenger and {need.control} control entities "
            f"({need.total} in all): {math.ceil(days)} days at share "
            f"{self.challenger_share:g} and {self.entities_per_day:g} entities a day, more "
            f"than the {planned:g} planned; {offer}; nothing stored",
        )

    def _smallest_share(self, planned: float) -> float | None:
        """The smallest share in (0, 0.5], to 0.001, whose days needed fit `planned`."""

        def fits(share: float) -> bool:
            days = self.days_needed(share)
            return days is not None and days <= planned

        if not fits(0.5):
            return None
        low, high = 0.0, 0.5  # fits(high) always holds; fits(low) never
        while high - low > 0.0005:
            middle = (low + high) / 2
            if fits(middle):
                high = middle
            else:
                low = middle
        share = math.ceil(high * 1000) / 1000
        return share if fits(share) else 0.5

    def plan_summary(self) -> dict[str, Any]:
        """The minimum sample per arm, in all, and the days needed (None without a rate)."""
        need = self.minimum_sample()
        days = self.days_needed()
        return {
            "minimum_sample": need.to_dict(),
            "total": need.total,
            "days_needed": None if days is None else math.ceil(days),
            "effect_powered": self.minimum_detectable_effect,
            "comparison": self.comparison.value,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "model": self.model,
            "control_version": self.control_version,
            "challenger_version": self.challenger_version,
            "metric": self.metric,
            "direction": self.direction.value,
            "guardrails": [g.to_dict() for g in self.guardrails],
            "salt": self.salt,
            "challenger_share": self.challenger_share,
            "baseline": self.baseline,
            "minimum_detectable_effect": self.minimum_detectable_effect,
            "alpha": self.alpha,
            "power": self.power,
            "sequential": self.sequential,
            "srm_threshold": self.srm_threshold,
            "comparison": self.comparison.value,
            "margin": self.margin,
            "metric_sd": self.metric_sd,
            "covariate_correlation": self.covariate_correlation,
            "entities_per_day": self.entities_per_day,
            "planned_days": self.planned_days,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Design:
        fields = dict(raw)
        if "baseline_rate" in fields:  # a design stored under the key `baseline_rate`
            fields["baseline"] = fields.pop("baseline_rate")
            fields["minimum_detectable_effect"] = abs(fields["minimum_detectable_effect"])
        fields["guardrails"] = tuple(Guardrail.from_mapping(g) for g in raw["guardrails"])
        fields["direction"] = Direction(raw["direction"])
        # A stored design is read back as it was; its duration was checked when created.
        fields.pop("planned_days", None)
        design = cls(**fields)
        object.__setattr__(design, "planned_days", raw.get("planned_days"))
        return design
