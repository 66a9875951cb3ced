"""What an experiment tests and how it will decide (`Design`), and where it stands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lucid.contracts.experiments.assignment import CHALLENGER, check_share, validate_experiment_id
from lucid.contracts.experiments.statistics import (
    DEFAULT_SRM_THRESHOLD,
    SampleSize,
    minimum_sample_size,
)
from lucid.contracts.value import Direction, Guardrail
from lucid.errors import InvalidInput

RUNNING = "running"
"""An experiment's status from its creation until it is concluded."""
CONCLUDED = "concluded"


@dataclass(frozen=True, slots=True)
class Design:
    """What an experiment tests and how it will decide.

    `minimum_detectable_effect` is an absolute change of the success rate (e.g. 0.02 for two
    points); `baseline_rate` the control's expected success rate; `srm_threshold` the p-value
    under which a sample-ratio mismatch invalidates the result.
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
    baseline_rate: float
    minimum_detectable_effect: float
    alpha: float = 0.05
    power: float = 0.8
    sequential: bool = False
    srm_threshold: float = DEFAULT_SRM_THRESHOLD

    def __post_init__(self) -> None:
        validate_experiment_id(self.experiment_id)
        if self.control_version == self.challenger_version:
            raise InvalidInput("challenger", "must be another version than the control")
        if not isinstance(self.salt, str) or not self.salt.strip():
            raise InvalidInput("salt", "must be non-empty text")
        object.__setattr__(self, "direction", Direction(self.direction))
        check_share(self.challenger_share)
        check_share(self.srm_threshold, "srm_threshold")
        check_share(self.alpha, "alpha")
        check_share(self.power, "power")
        self.minimum_sample()  # checks baseline_rate and minimum_detectable_effect

    @property
    def control_label(self) -> str:
        return f"{self.model}@{self.control_version}"

    @property
    def challenger_label(self) -> str:
        return f"{self.model}@{self.challenger_version}"

    def version_of(self, arm: str) -> int:
        return self.challenger_version if arm == CHALLENGER else self.control_version

    def minimum_sample(self) -> SampleSize:
        return minimum_sample_size(
            self.baseline_rate,
            self.minimum_detectable_effect,
            challenger_share=self.challenger_share,
            alpha=self.alpha,
            power=self.power,
        )

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
            "baseline_rate": self.baseline_rate,
            "minimum_detectable_effect": self.minimum_detectable_effect,
            "alpha": self.alpha,
            "power": self.power,
            "sequential": self.sequential,
            "srm_threshold": self.srm_threshold,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Design:
        fields = dict(raw)
        fields["guardrails"] = tuple(Guardrail.from_mapping(g) for g in raw["guardrails"])
        fields["direction"] = Direction(raw["direction"])
        return cls(**fields)
