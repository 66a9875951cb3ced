"""CUSUM change detection across runs: the hand-computed sums, its false-alarm and detection
rates on simulated sequences, the checks it adds and the policy field that turns it on."""

from __future__ import annotations

import numpy as np
import pytest

from lucid.contracts.validity import Level, Measurement, MonitoringPolicy
from lucid.contracts.validity.change_detection import (
    ChangeDetection,
    change_checks,
    cusum,
)
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.policy import stored_evaluation
from lucid.errors import InvalidInput


def test_the_sums_match_a_hand_computed_example() -> None:
    # baseline 1, 2, 3: mean 2, sd 1; z = 1.5, 1.5, -2 with k = 0.5
    # upper: 1.0, 2.0 (reaches h = 2: signal at index 4), max(0, 2 - 2 - 0.5) = 0
    # lower: 0, 0, max(0, 0 + 2 - 0.5) = 1.5
    result = cusum([1.0, 2.0, 3.0, 3.5, 3.5, 0.0], ChangeDetection(k=0.5, h=2, baseline_runs=3))
    assert result is not None
    assert (result.baseline_mean, result.baseline_sd) == (2.0, 1.0)
    assert result.upper == (0, 0, 0, 1.0, 2.0, 0.0)
    assert result.lower == (0, 0, 0, 0.0, 0.0, 1.5)
    assert result.statistic == (0, 0, 0, 1.0, 2.0, 1.5)
    assert result.signal == 4


def test_no_statistic_without_a_run_after_the_baseline_or_without_spread() -> None:
    settings = ChangeDetection(baseline_runs=3)
    assert cusum([1.0, 2.0, 3.0], settings) is None
    assert cusum([2.0, 2.0, 2.0, 9.0], settings) is None


def first_signal(rng: np.random.Generator, settings: ChangeDetection, shift: float) -> int | None:
    baseline = rng.normal(0.0, 1.0, settings.baseline_runs)
    after = rng.normal(shift, 1.0, 100)
    result = cusum([*baseline, *after], settings)
    assert result is not None
    return None if result.signal is None else result.signal - settings.baseline_runs + 1


# A long baseline makes mean and sd near-exact, so the documented run lengths hold:
# in-control ARL ≈ 465 runs, i.e. P(signal within 100 runs) ≈ 0.19 (0.1905 over 2,000
# simulated sequences); the tolerance is ± 3 binomial sd at 200 sequences (± 0.085).
KNOWN_BASELINE = ChangeDetection(k=0.5, h=5, baseline_runs=1000)


def test_the_false_alarm_rate_on_in_control_runs_is_the_documented_one() -> None:
    rng = np.random.default_rng(2126)
    signals = [first_signal(rng, KNOWN_BASELINE, 0.0) for _ in range(200)]
    rate = sum(s is not None for s in signals) / len(signals)
    assert 0.19 - 0.085 <= rate <= 0.19 + 0.085


def test_a_sustained_one_sd_shift_is_signalled_after_about_ten_runs() -> None:
    rng = np.random.default_rng(2127)
    delays = [first_signal(rng, KNOWN_BASELINE, 1.0) for _ in range(200)]
    assert all(d is not None for d in delays)
    found = [d for d in delays if d is not None]
    assert 9.0 <= float(np.mean(found)) <= 12.0  # ARL1 ≈ 10.4 for k = 0.5, h = 5
    assert max(found) <= 40


def churn_policy(detection: ChangeDetection | None) -> MonitoringPolicy:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    if detection is not None:
        raw["change_detection"] = detection.to_mapping()
    return MonitoringPolicy.from_mapping(raw)


def psi_run(policy: MonitoringPolicy, value: float) -> PolicyEvaluation:
    return policy.evaluate([Measurement("psi", value, feature="tenure")])


def test_each_judged_check_with_history_gets_its_cusum_check() -> None:
    settings = ChangeDetection(k=0.5, h=2, baseline_runs=3)
    policy = churn_policy(settings)
    history = [psi_run(policy, v).to_dict()["checks"] for v in (0.01, 0.02, 0.03, 0.035)]
    changes = change_checks(psi_run(policy, 0.035), history, settings)
    assert len(changes) == 1  # only psi[tenure] was judged; the rest are insufficient
    (check,) = changes
    assert check.threshold.key == "cusum:psi"
    assert check.measurement.feature == "tenure"
    assert check.measurement.value == pytest.approx(2.0)
    assert check.level is Level.WARNING
    assert check.actions == policy.thresholds[0].warning_actions
    assert change_checks(psi_run(policy, 0.035), history[:2], settings) == ()
    # a stored run with its cusum check is rebuilt from the policy
    stored = PolicyEvaluation((*psi_run(policy, 0.035).checks, check)).to_dict()["checks"]
    rebuilt = stored_evaluation(policy, stored)
    assert rebuilt.checks[-1].level is Level.WARNING


def test_the_policy_field_is_off_by_default_and_round_trips() -> None:
    assert MonitoringPolicy.churn_default("churn").change_detection is None
    assert "change_detection" not in MonitoringPolicy.churn_default("churn").to_mapping()
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["change_detection"] = {}
    policy = MonitoringPolicy.from_mapping(raw)
    assert policy.change_detection == ChangeDetection(k=0.5, h=5, baseline_runs=30)
    assert MonitoringPolicy.from_mapping(policy.to_mapping()) == policy
    assert policy.with_thresholds(policy.thresholds) == policy


@pytest.mark.parametrize(
    ("given", "field", "rule"),
    [
        ({"k": -1}, "change_detection.k", "finite number of sd ≥ 0"),
        ({"k": "half"}, "change_detection.k", "must be a number of sd"),
        ({"h": 0}, "change_detection.h", "must be above 0 sd"),
        ({"h": float("inf")}, "change_detection.h", "finite number of sd"),
        ({"baseline_runs": 1}, "change_detection.baseline_runs", "whole number of runs ≥ 2"),
        ({"baseline_runs": 2.5}, "change_detection.baseline_runs", "whole number of runs ≥ 2"),
        ({"window": 3}, "change_detection.window", "unknown key"),
        ([], "change_detection", "must be a mapping"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(given: object, field: str, rule: str) -> None:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["change_detection"] = given
    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy.from_mapping(raw)
    assert refused.value.field == field
    assert rule in str(refused.value)


def test_only_the_worse_side_warns() -> None:
    settings = ChangeDetection(k=0.5, h=2, baseline_runs=3)
    policy = churn_policy(settings)
    history = [psi_run(policy, v).to_dict()["checks"] for v in (0.03, 0.02, 0.01, 0.005)]
    # psi falling by 1.5 sd twice: the lower sum reaches h, but less drift is no alarm
    (check,) = change_checks(psi_run(policy, 0.005), history, settings)
    assert check.measurement.value == 0.0
    assert check.level is Level.OK


def test_the_sdk_refuses_settings_that_are_not_change_detection() -> None:
    policy = MonitoringPolicy.churn_default("churn")
    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy(
            policy.model,
            policy.thresholds,
            policy.reporting,
            change_detection={"k": 0.5},  # type: ignore[arg-type]
        )
    assert str(refused.value) == (
        "change_detection: must be ChangeDetection settings (k, h, baseline_runs), not dict"
    )
