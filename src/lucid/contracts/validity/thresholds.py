"""A graded threshold: the metric it watches, its warning and critical bounds and actions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lucid.contracts.names import PERSON_MAX_LENGTH, check_length, refuse_unknown_keys
from lucid.contracts.validity.actions import Action, parse_actions
from lucid.contracts.validity.grades import DriftType, Level
from lucid.contracts.validity.metrics import Measurement, metric_spec
from lucid.errors import InvalidInput

SEGMENT_MAX_LENGTH = 300
"""Characters in a segment written `column=value`."""


THRESHOLD_KEYS = (
    "drift_type",
    "metric",
    "warning",
    "critical",
    "warning_action",
    "critical_action",
    "feature",
    "segment",
    "runbook",
)
"""The fields of one threshold of a policy."""
THRESHOLD_REQUIRED = THRESHOLD_KEYS[:6]
"""The fields a threshold must give: its metric, levels and the actions of each level."""


@dataclass(frozen=True, slots=True)
class Threshold:
    """A graded threshold: the metric it watches, warning and critical values and actions.

    For a higher-is-worse metric (PSI, drops) warning < critical and a value at or above a
    bound reaches its level; for a lower-is-worse metric (p-values) warning > critical and a
    value at or below a bound reaches it. `feature` and `segment` restrict the threshold to
    one column or one segment (e.g. `plan=pro`); None watches all of them.
    """

    drift_type: DriftType
    metric: str
    warning: float
    critical: float
    warning_actions: tuple[Action, ...]
    critical_actions: tuple[Action, ...]
    feature: str | None = None
    segment: str | None = None
    runbook: str | None = None

    def __post_init__(self) -> None:
        spec = metric_spec(self.metric)
        if self.drift_type not in spec.drift_types:
            allowed = ", ".join(sorted(t.value for t in spec.drift_types))
            raise InvalidInput(
                "drift_type",
                f"{self.drift_type.value} does not fit metric {self.metric} (fits: {allowed})",
            )
        for name, bound in (("warning", self.warning), ("critical", self.critical)):
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise InvalidInput(name, f"must be a number, not {bound!r}")
            if not math.isfinite(bound):
                raise InvalidInput(name, f"must be a finite number, not {bound}")
            if not spec.bounds.hold(bound):
                raise InvalidInput(
                    name, f"a {self.metric} threshold must be {spec.bounds}, not {bound:g}"
                )
        if spec.higher_is_worse and not self.warning < self.critical:
            raise InvalidInput(
                "warning",
                f"must be below critical for {self.metric}, where higher is worse "
                f"(got warning {self.warning}, critical {self.critical})",
            )
        if not spec.higher_is_worse and not self.warning > self.critical:
            raise InvalidInput(
                "warning",
                f"must be above critical for {self.metric}, where lower is worse "
                f"(got warning {self.warning}, critical {self.critical})",
            )
        if not self.warning_actions or not self.critical_actions:
            raise InvalidInput("actions", "a threshold needs a warning and a critical action")
        for name, scope, longest in (
            ("feature", self.feature, PERSON_MAX_LENGTH),
            ("segment", self.segment, SEGMENT_MAX_LENGTH),
        ):
            if scope is not None and not scope.strip():
                raise InvalidInput(name, "must be a name or absent, not blank")
            if scope is not None:
                check_length(scope, name, longest)
        if self.runbook is not None and not self.runbook.strip():
            raise InvalidInput("runbook", "must be a Markdown path or URL, or absent")

    @property
    def key(self) -> str:
        """Identifies the threshold within a policy: `metric[feature][@segment]`."""
        return (
            self.metric
            + (f"[{self.feature}]" if self.feature else "")
            + (f"@{self.segment}" if self.segment else "")
        )

    def grade(self, value: float | None, *, sufficient: bool = True) -> Level:
        """The level of `value`: `insufficient_data` when not judgeable (None, NaN, small)."""
        if not sufficient or value is None or math.isnan(value):
            return Level.INSUFFICIENT_DATA
        if metric_spec(self.metric).higher_is_worse:
            if value >= self.critical:
                return Level.CRITICAL
            return Level.WARNING if value >= self.warning else Level.OK
        if value <= self.critical:
            return Level.CRITICAL
        return Level.WARNING if value <= self.warning else Level.OK

    def actions_for(self, level: Level) -> tuple[Action, ...]:
        """The actions `level` asks for: none for ok and insufficient data."""
        if level is Level.CRITICAL:
            return self.critical_actions
        if level is Level.WARNING:
            return self.warning_actions
        return ()

    def applies_to(self, measurement: Measurement) -> bool:
        return (
            measurement.metric == self.metric
            and (self.feature is None or measurement.feature == self.feature)
            and (self.segment is None or measurement.segment == self.segment)
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "drift_type": self.drift_type.value,
            "metric": self.metric,
            "warning": self.warning,
            "critical": self.critical,
            "warning_action": [str(a) for a in self.warning_actions],
            "critical_action": [str(a) for a in self.critical_actions],
            "feature": self.feature,
            "segment": self.segment,
            "runbook": self.runbook,
        }

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "threshold") -> Threshold:
        refuse_unknown_keys(raw, THRESHOLD_KEYS, where)
        for required in THRESHOLD_REQUIRED:
            if required not in raw:
                raise InvalidInput(f"{where}.{required}", "is required")
        try:
            drift_type = DriftType(raw["drift_type"])
        except ValueError:
            known_types = ", ".join(t.value for t in DriftType)
            raise InvalidInput(
                f"{where}.drift_type", f"{raw['drift_type']!r} is not one of {known_types}"
            ) from None
        try:
            return cls(
                drift_type=drift_type,
                metric=str(raw["metric"]),
                warning=raw["warning"],
                critical=raw["critical"],
                warning_actions=parse_actions(raw["warning_action"], f"{where}.warning_action"),
                critical_actions=parse_actions(raw["critical_action"], f"{where}.critical_action"),
                feature=optional_text(raw.get("feature"), f"{where}.feature"),
                segment=optional_text(raw.get("segment"), f"{where}.segment"),
                runbook=optional_text(raw.get("runbook"), f"{where}.runbook"),
            )
        except InvalidInput as error:
            if error.field.startswith(where):
                raise
            raise InvalidInput(f"{where}.{error.field}", error.rule) from None


def optional_text(value: Any, field_name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field_name, f"must be text, not {value!r}")
    return value
