"""A stored run's evaluation rebuilt from its policy and stored checks asks exactly what the
run asked (pure: no storage)."""

from __future__ import annotations

from typing import Any

import pytest

from lucid.contracts.validity import Measurement, MonitoringPolicy, stored_evaluation
from lucid.errors import InvalidInput
from lucid.settings import SchedulerSettings


def stored(check: Any) -> dict[str, Any]:
    """A check as `monitoring_checks` keeps it."""
    return {
        "threshold": check.threshold.key,
        "metric": check.measurement.metric,
        "feature": check.measurement.feature,
        "segment": check.measurement.segment,
        "value": check.measurement.value,
        "level": check.level.value,
        "reference_rows": check.measurement.reference_rows,
        "current_rows": check.measurement.current_rows,
        "expected_no_drift": check.measurement.expected_no_drift,
        "note": check.measurement.note,
    }


def test_the_rebuilt_evaluation_keeps_levels_actions_and_runbooks() -> None:
    policy = MonitoringPolicy.churn_default("churn")
    graded = policy.evaluate(
        [
            Measurement("psi", 0.25, feature="tenure", reference_rows=900, current_rows=800),
            Measurement("psi", 0.02, feature="activity"),
            Measurement("accuracy_drop", 0.04),
        ]
    )
    rebuilt = stored_evaluation(policy, [stored(c) for c in graded.checks])
    assert rebuilt.level == graded.level
    assert rebuilt.actions == graded.actions
    assert [c.to_dict() for c in rebuilt.checks] == [c.to_dict() for c in graded.checks]


def test_a_check_of_a_threshold_the_policy_lacks_is_refused() -> None:
    policy = MonitoringPolicy.churn_default("churn")
    check = stored(policy.evaluate([Measurement("psi", 0.3, feature="tenure")]).checks[0])
    with pytest.raises(InvalidInput, match=r"checks\[0\]\.threshold: 'ks' is not a threshold"):
        stored_evaluation(policy, [{**check, "threshold": "ks"}])


def test_scheduler_settings_refuse_a_tick_that_is_not_positive() -> None:
    assert SchedulerSettings().tick_seconds == 60 and not SchedulerSettings().enabled
    with pytest.raises(ValueError, match="greater than 0"):
        SchedulerSettings(tick_seconds=0)
