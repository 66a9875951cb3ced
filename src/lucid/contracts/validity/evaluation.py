"""A run graded by its policy: every check, the worst level and the actions asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lucid.contracts.validity.actions import Action
from lucid.contracts.validity.diagnostics import FAILING, what_moved
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.thresholds import Threshold


@dataclass(frozen=True, slots=True)
class Check:
    """One threshold graded against one measurement (or against nothing: insufficient).

    `adjusted_pvalue` is the measurement's p-value adjusted across the run's tested checks
    (None when the measurement has no p-value)."""

    threshold: Threshold
    measurement: Measurement
    level: Level
    adjusted_pvalue: float | None = None

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.threshold.actions_for(self.level)

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON; a warning or critical check adds its `what_moved` line."""
        found: dict[str, Any] = {
            "threshold": self.threshold.key,
            "drift_type": self.threshold.drift_type.value,
            "metric": self.measurement.metric,
            "feature": self.measurement.feature,
            "segment": self.measurement.segment,
            "value": self.measurement.value,
            "level": self.level.value,
            "warning": self.threshold.warning,
            "critical": self.threshold.critical,
            "actions": [str(action) for action in self.actions],
            "runbook": self.threshold.runbook,
            "reference_rows": self.measurement.reference_rows,
            "current_rows": self.measurement.current_rows,
            "expected_no_drift": self.measurement.expected_no_drift,
            "note": self.measurement.note,
            "pvalue": self.measurement.pvalue,
            "adjusted_pvalue": self.adjusted_pvalue,
            "details": dict(self.measurement.details),
        }
        found["what_moved"] = what_moved(found) if found["level"] in FAILING else None
        return found


@dataclass(frozen=True, slots=True)
class PolicyEvaluation:
    """Every check of a run, its worst level, and every action the non-OK checks ask for."""

    checks: tuple[Check, ...]

    @property
    def level(self) -> Level:
        return Level.worst(check.level for check in self.checks)

    @property
    def actions(self) -> tuple[Action, ...]:
        """Actions of every warning and critical check, deduplicated, most severe first."""
        ordered = sorted(self.checks, key=lambda check: -check.level.severity)
        return tuple(dict.fromkeys(action for check in ordered for action in check.actions))

    def at(self, level: Level) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.level is level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "actions": [str(action) for action in self.actions],
            "checks": [check.to_dict() for check in self.checks],
        }
