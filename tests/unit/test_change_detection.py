"""Change detection across runs: the hand-computed sums and scores, false-alarm and detection
rates on simulated sequences whatever the history, the checks it adds (CUSUM and
Page–Hinkley, on evidence or self-started) and the policy field that turns it on."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats

from lucid.contracts.validity import Level, Measurement, MonitoringPolicy
from lucid.contracts.validity.change_detection import (
    Z_CAP,
    ChangeDetection,
    average_run_length,
    change_checks,
    chart,
    evidence_score,
    student_t_cdf,
)
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.stored_runs import stored_evaluation
from lucid.errors import InvalidInput

NORMAL = statistics.NormalDist()


def pvalue_of(z: float) -> float:
    """The p-value whose evidence score is z."""
    return 1 - NORMAL.cdf(z)


def test_the_sums_match_a_hand_computed_example() -> None:
    # evidence z = 1.75, 1.75, -2 with k = 0.5: upper 1.25, 2.5 (reaches h = 2 at index 1),
    # max(0, 2.5 - 2 - 0.5) = 0; lower: 0, 0, max(0, 0 + 2 - 0.5) = 1.5
    settings = ChangeDetection(k=0.5, h=2)
    result = chart([pvalue_of(1.75), pvalue_of(1.75), pvalue_of(-2.0)], settings, evidence=True)
    assert result is not None
    assert result.scores == pytest.approx((1.75, 1.75, -2.0))
    assert result.upper == pytest.approx((1.25, 2.5, 0.0), abs=1e-9)
    assert result.lower == pytest.approx((0.0, 0.0, 1.5))
    assert result.statistic == pytest.approx((1.25, 2.5, 1.5), abs=1e-9)
    assert result.signal == 1


def test_an_evidence_score_is_capped_so_one_run_alone_never_signals() -> None:
    assert evidence_score(1e-300) == Z_CAP
    assert evidence_score(1.0) < -8
    result = chart([1e-300], ChangeDetection(), evidence=True)
    assert result is not None and result.upper == (Z_CAP - 0.5,) and result.signal is None


def test_the_self_starting_score_matches_a_hand_computed_example() -> None:
    # after 1, 2, 3 (mean 2, sd 1, n 3): T = (4 - 2) / (1 * sqrt(1 + 1/3)) = 1.7320508,
    # Student t with 2 dof: F = 0.8873, U = Φ⁻¹(F) = 1.2126
    settings = ChangeDetection(k=0.5, h=5, baseline_runs=3)
    result = chart([1.0, 2.0, 3.0, 4.0], settings)
    assert result is not None
    assert result.scores[:3] == (None, None, None)
    t = 2 / math.sqrt(4 / 3)
    assert result.scores[3] == pytest.approx(NORMAL.inv_cdf(student_t_cdf(t, 2)), abs=1e-12)
    assert student_t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)))
    assert result.upper[3] == pytest.approx(result.scores[3] - 0.5)


def test_the_student_t_distribution_matches_scipy() -> None:
    for dof in (1, 2, 5, 29, 400):
        for t in (-30.0, -2.5, -0.3, 0.0, 0.7, 3.1, 25.0):
            assert student_t_cdf(t, dof) == pytest.approx(float(stats.t.cdf(t, dof)), abs=1e-12)


def test_no_chart_while_the_self_starting_estimates_form_or_have_no_spread() -> None:
    settings = ChangeDetection(baseline_runs=3)
    assert chart([1.0, 2.0, 3.0], settings) is None
    assert chart([2.0, 2.0, 2.0, 9.0], settings) is None


def test_the_average_run_length_is_siegmunds() -> None:
    assert average_run_length(0.5, 5) == pytest.approx(938.2, abs=0.1)
    assert average_run_length(0.5, 5, 1.0) == pytest.approx(10.34, abs=0.01)


def first_signal(
    rng: np.random.Generator, settings: ChangeDetection, shift: float, *, evidence: bool
) -> int | None:
    """The run (1-based, after `baseline_runs` in-control runs) where the chart of N(shift, 1)
    values (or their p-values) first signals on the upper side."""
    before = rng.normal(0.0, 1.0, settings.baseline_runs)
    after = rng.normal(shift, 1.0, 100)
    values = [*before, *after]
    series = [pvalue_of(v) for v in values] if evidence else values
    result = chart(series, settings, evidence=evidence)
    assert result is not None
    for index in range(settings.baseline_runs, len(values)):
        if result.upper[index] >= settings.h:
            return index - settings.baseline_runs + 1
    return None


# One-sided, k = 0.5, h = 5, N(0, 1) scores: P(signal within 100 runs) ≈ 0.096 (20,000
# simulated sequences); ± 3 binomial sd at 200 sequences is ± 0.063. The previous rule,
# standardised by an estimated baseline, signalled within 100 runs 40 % of the time with 30
# baseline runs and 52 % with 14.
IN_CONTROL = 0.096
TOLERANCE = 0.063


@pytest.mark.parametrize(
    ("settings", "evidence"),
    [
        (ChangeDetection(baseline_runs=30), True),
        (ChangeDetection(baseline_runs=14), False),
        (ChangeDetection(baseline_runs=3), False),
    ],
)
def test_the_false_alarm_rate_does_not_depend_on_the_history(
    settings: ChangeDetection, evidence: bool
) -> None:
    rng = np.random.default_rng(2126)
    signals = [first_signal(rng, settings, 0.0, evidence=evidence) for _ in range(200)]
    rate = sum(s is not None for s in signals) / len(signals)
    assert rate <= IN_CONTROL + TOLERANCE


def test_a_sustained_one_sd_shift_of_the_evidence_is_signalled_after_about_ten_runs() -> None:
    rng = np.random.default_rng(2127)
    delays = [
        first_signal(rng, ChangeDetection(baseline_runs=30), 1.0, evidence=True) for _ in range(200)
    ]
    assert all(d is not None for d in delays)
    found = [d for d in delays if d is not None]
    assert 9.0 <= float(np.mean(found)) <= 12.0  # ARL1 ≈ 10.4 for k = 0.5, h = 5
    assert max(found) <= 40


def test_a_self_started_chart_learns_nothing_after_its_signal() -> None:
    settings = ChangeDetection(k=0.5, h=5, baseline_runs=5)
    rng = np.random.default_rng(3)
    values = [*rng.normal(0, 1, 20), *rng.normal(3, 1, 60)]
    result = chart(values, settings)
    assert result is not None and result.signal is not None and result.signal >= 20
    assert all(up >= settings.h for up in result.upper[result.signal + 5 :])


def churn_policy(detection: ChangeDetection | None) -> MonitoringPolicy:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    if detection is not None:
        raw["change_detection"] = detection.to_mapping()
    return MonitoringPolicy.from_mapping(raw)


def psi_run(
    policy: MonitoringPolicy, value: float, pvalue: float | None = None
) -> PolicyEvaluation:
    return policy.evaluate([Measurement("psi", value, feature="tenure", pvalue=pvalue)])


def test_a_check_with_a_pvalue_is_charted_on_its_evidence_from_the_first_run() -> None:
    settings = ChangeDetection(k=0.5, h=2)
    policy = churn_policy(settings)
    # z = 1.75 then 1.75: the upper sum reaches 2.5 ≥ h = 2 on the second run
    history = [psi_run(policy, 0.03, pvalue_of(1.75)).to_dict()["checks"]]
    (check,) = change_checks(psi_run(policy, 0.03, pvalue_of(1.75)), history, settings)
    assert check.threshold.key == "cusum:psi"
    assert check.measurement.feature == "tenure"
    assert check.measurement.value == pytest.approx(2.5)
    assert check.level is Level.WARNING
    assert check.actions == policy.thresholds[0].warning_actions
    assert check.measurement.details["evidence"] is True
    assert check.measurement.details["scored_runs"] == 2
    assert "evidence z" in (check.measurement.note or "")
    (first,) = change_checks(psi_run(policy, 0.03, pvalue_of(1.75)), [], settings)
    assert first.measurement.value == pytest.approx(1.25) and first.level is Level.OK
    # a stored run with its cusum check is rebuilt from the policy
    stored = PolicyEvaluation((*psi_run(policy, 0.03).checks, check)).to_dict()["checks"]
    assert stored[-1]["what_moved"].startswith("cusum:psi[tenure] warning at 2.5: CUSUM")
    rebuilt = stored_evaluation(policy, stored)
    assert rebuilt.checks[-1].level is Level.WARNING


def test_a_check_without_pvalue_is_self_started_after_its_baseline_runs() -> None:
    settings = ChangeDetection(k=0.5, h=2, baseline_runs=3)
    policy = churn_policy(settings)
    history = [psi_run(policy, v).to_dict()["checks"] for v in (0.01, 0.02, 0.03)]
    assert change_checks(psi_run(policy, 0.04), history[:2], settings) == ()
    (check,) = change_checks(psi_run(policy, 0.04), history, settings)
    expected = chart([0.01, 0.02, 0.03, 0.04], settings)
    assert expected is not None
    assert check.measurement.value == pytest.approx(expected.upper[-1])
    assert check.measurement.details["evidence"] is False
    assert check.measurement.details["scored_runs"] == 1


def test_page_hinkley_charts_the_scores_less_their_running_mean() -> None:
    settings = ChangeDetection(k=0.5, h=5, method="page_hinkley")
    assert settings.to_mapping() == {
        "method": "page_hinkley",
        "delta": 0.5,
        "lambda": 5,
        "baseline_runs": 10,
    }
    policy = churn_policy(settings)
    zs = (1.0, 3.0, 2.0)
    history = [psi_run(policy, 0.03, pvalue_of(z)).to_dict()["checks"] for z in zs[:2]]
    (check,) = change_checks(psi_run(policy, 0.03, pvalue_of(zs[2])), history, settings)
    assert check.threshold.key == "page_hinkley:psi"
    # z - running mean - 0.5: 1 - 1 - .5 -> 0; 3 - 2 - .5 = .5; 2 - 2 - .5 -> 0
    assert check.measurement.value == pytest.approx(0.0, abs=1e-9)
    upper = chart([pvalue_of(z) for z in zs], settings, evidence=True)
    assert upper is not None and upper.upper == pytest.approx((0.0, 0.5, 0.0), abs=1e-9)
    rebuilt = stored_evaluation(policy, [c.to_dict() for c in (check,)])
    assert rebuilt.checks[0].threshold.metric == "page_hinkley:psi"
    assert MonitoringPolicy.from_mapping(policy.to_mapping()) == policy


def test_the_policy_field_is_off_by_default_and_round_trips() -> None:
    assert MonitoringPolicy.churn_default("churn").change_detection is None
    assert "change_detection" not in MonitoringPolicy.churn_default("churn").to_mapping()
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["change_detection"] = {}
    policy = MonitoringPolicy.from_mapping(raw)
    assert policy.change_detection == ChangeDetection(k=0.5, h=5, baseline_runs=10)
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
        ({"method": "ewma"}, "change_detection.method", "is not one of cusum, page_hinkley"),
        ({"method": "page_hinkley", "k": 1}, "change_detection.k", "unknown key"),
        ({"method": "page_hinkley", "lambda": -2}, "change_detection.lambda", "≥ 0"),
        ({"method": "page_hinkley", "delta": "x"}, "change_detection.delta", "number of sd"),
        ({"method": "cusum", "lambda": 5}, "change_detection.lambda", "unknown key"),
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


def test_a_change_threshold_written_in_a_policy_is_refused() -> None:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["thresholds"][0]["metric"] = "page_hinkley:psi"
    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy.from_mapping(raw)
    assert "computed from the policy's change_detection" in str(refused.value)


def test_only_the_worse_side_warns() -> None:
    settings = ChangeDetection(k=0.5, h=2, baseline_runs=3)
    policy = churn_policy(settings)
    history = [psi_run(policy, v).to_dict()["checks"] for v in (0.03, 0.02, 0.01, 0.005)]
    # psi falling well below the earlier runs: the lower sum grows, but less drift is no alarm
    (check,) = change_checks(psi_run(policy, 0.001), history, settings)
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
        "change_detection: must be ChangeDetection settings (method, k, h, baseline_runs), not dict"
    )
