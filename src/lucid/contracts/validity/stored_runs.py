"""A stored run's evaluation rebuilt from its policy and its checks, each level as stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lucid.contracts.validity.change_detection import change_threshold
from lucid.contracts.validity.evaluation import Check, PolicyEvaluation
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.errors import InvalidInput


def stored_evaluation(
    policy: MonitoringPolicy, checks: Sequence[Mapping[str, Any]]
) -> PolicyEvaluation:
    """The evaluation a stored run recorded, rebuilt from its policy and its stored checks
    (each a mapping with `threshold` key, `metric`, `feature`, `segment`, `value`, `level`,
    row counts, `expected_no_drift`, `note`, and when stored `pvalue`, `adjusted_pvalue`,
    `details`). Levels are taken as stored, never graded again,
    so a run resumed later asks exactly what it asked when it was measured."""
    thresholds = {threshold.key: threshold for threshold in policy.thresholds}
    if policy.change_detection is not None:
        for watched in policy.thresholds:
            derived = change_threshold(watched, policy.change_detection)
            thresholds[derived.key] = derived
    rebuilt: list[Check] = []
    for position, stored in enumerate(checks):
        threshold = thresholds.get(str(stored["threshold"]))
        if threshold is None:
            raise InvalidInput(
                f"checks[{position}].threshold",
                f"{stored['threshold']!r} is not a threshold of the run's policy",
            )
        level = Level(stored["level"])
        measurement = Measurement(
            metric=str(stored["metric"]),
            value=stored.get("value"),
            feature=stored.get("feature"),
            segment=stored.get("segment"),
            reference_rows=stored.get("reference_rows"),
            current_rows=stored.get("current_rows"),
            sufficient=level is not Level.INSUFFICIENT_DATA,
            expected_no_drift=stored.get("expected_no_drift"),
            note=stored.get("note"),
            details=dict(stored.get("details") or {}),
            pvalue=stored.get("pvalue"),
        )
        rebuilt.append(Check(threshold, measurement, level, stored.get("adjusted_pvalue")))
    return PolicyEvaluation(tuple(rebuilt))
