"""Experiment statistics against scipy on fixed counts; assignment stable and uniform."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import chi2, norm, ttest_ind

from lucid.contracts.experiments import (
    CHALLENGER,
    ArmStats,
    Decision,
    Design,
    always_valid_test,
    analyse,
    assign,
    difference_test,
    evidence_of,
    minimum_sample_size,
    sample_ratio_check,
)
from lucid.contracts.value import Direction, Guardrail, GuardrailBound, judge_evidence
from lucid.errors import InvalidInput
from tests.contract.test_registry import retention
from tests.experiment_counts import two_proportion_evidence

COUNTS = [  # (control successes, control n, challenger successes, challenger n)
    (800, 1000, 850, 1000),
    (7200, 9000, 880, 1000),
    (150, 1200, 30, 180),
    (40, 50, 41, 50),
]


@pytest.mark.parametrize(("sc", "nc", "st", "nt"), COUNTS)
def test_the_welch_test_matches_scipy_on_the_per_entity_zeros_and_ones(
    sc: int, nc: int, st: int, nt: int
) -> None:
    result = difference_test(ArmStats.binary(nc, nc, sc), ArmStats.binary(nt, nt, st))
    yc = np.r_[np.ones(sc), np.zeros(nc - sc)]
    yt = np.r_[np.ones(st), np.zeros(nt - st)]
    welch = ttest_ind(yt, yc, equal_var=False)
    se = math.sqrt(yc.var(ddof=1) / nc + yt.var(ddof=1) / nt)
    effect = yt.mean() - yc.mean()
    assert result.effect == pytest.approx(effect)
    assert result.statistic == pytest.approx(float(welch.statistic), rel=1e-9)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(effect / se)), rel=1e-9)
    half = norm.ppf(0.975) * se
    assert (result.ci_low, result.ci_high) == pytest.approx((effect - half, effect + half))
    assert result.theta is None and result.variance_reduction == 0.0


def test_the_evidence_matches_the_registry_tests_fixed_counts_helper() -> None:
    design = Design(
        experiment_id="exp-42",
        model="churn",
        control_version=1,
        challenger_version=3,
        metric="retention_rate",
        direction=Direction.HIGHER,
        guardrails=(Guardrail("compute_cost_per_day", GuardrailBound.CAP, 495),),
        salt="exp-42",
        challenger_share=0.5,
        baseline=0.8,
        minimum_detectable_effect=0.05,
    )
    analysis = analyse(
        design,
        ArmStats.binary(1000, 1000, 800),
        ArmStats.binary(1000, 1000, 850),
        {"compute_cost_per_day": 410},
    )
    assert analysis.decision is Decision.CHALLENGER_BETTER
    ours = evidence_of(analysis, "2026-12-06T00:00:00Z")
    expected = two_proportion_evidence(retention(), "churn@3", (800, 850), (1000, 1000))
    numbers = ("effect", "ci_low", "ci_high", "confidence", "alpha")
    # Welch's sample variances (n - 1) against the helper's p(1 - p) / n: equal to 1e-3; the
    # helper's p-value uses the pooled standard error.
    assert ours.p_value == pytest.approx(expected.p_value, rel=0.05)
    assert [getattr(ours, n) for n in numbers] == pytest.approx(
        [getattr(expected, n) for n in numbers], rel=1e-3
    )
    assert (ours.kind, ours.origin, ours.direction) == ("business", "lucid", Direction.HIGHER)
    assert ours.design["experiment_id"] == "exp-42" and ours.data["control"]["n"] == 1000
    assert (ours.control, ours.treatment, ours.source) == (
        expected.control,
        expected.treatment,
        expected.source,
    )
    assert judge_evidence(retention(), [ours], "churn@3", "churn@1") is None


@pytest.mark.parametrize(
    ("guardrails", "sentence"),
    [({"compute_cost_per_day": 520.0}, "broken (520)"), ({}, "unmeasured")],
)
def test_a_better_challenger_that_breaks_a_guardrail_is_not_a_win(
    guardrails: dict[str, float], sentence: str
) -> None:
    design = Design(
        experiment_id="exp-43",
        model="churn",
        control_version=1,
        challenger_version=3,
        metric="retention_rate",
        direction=Direction.HIGHER,
        guardrails=(Guardrail("compute_cost_per_day", GuardrailBound.CAP, 495),),
        salt="exp-43",
        challenger_share=0.5,
        baseline=0.8,
        minimum_detectable_effect=0.05,
    )
    analysis = analyse(
        design, ArmStats.binary(1000, 1000, 800), ArmStats.binary(1000, 1000, 850), guardrails
    )
    assert analysis.decision is Decision.GUARDRAIL_BROKEN and sentence in analysis.reason
    assert analysis.can_conclude
    problem = judge_evidence(
        retention(), [evidence_of(analysis, "2026-12-06T00:00:00Z")], "churn@3", "churn@1"
    )
    assert problem is not None and "compute_cost_per_day" in problem


@pytest.mark.parametrize(
    ("baseline", "effect", "share"), [(0.8, 0.02, 0.5), (0.8, 0.05, 0.1), (0.1, -0.03, 0.2)]
)
def test_the_minimum_sample_matches_the_normal_power_formula(
    baseline: float, effect: float, share: float
) -> None:
    size = minimum_sample_size(baseline, effect, challenger_share=share)
    h = abs(2 * math.asin(math.sqrt(baseline + effect)) - 2 * math.asin(math.sqrt(baseline)))
    ratio = (1 - share) / share
    # n1 = (z_{1-a/2} + z_{power})² (1 + 1/ratio) / h² (the second tail is negligible here)
    n1 = (norm.ppf(0.975) + norm.ppf(0.8)) ** 2 * (1 + 1 / ratio) / h**2
    assert size.challenger == pytest.approx(math.ceil(n1), abs=1)
    assert size.control == pytest.approx(math.ceil(n1 * ratio), abs=2)


def test_a_sample_ratio_mismatch_is_detected_and_a_fair_split_is_not() -> None:
    fair = sample_ratio_check(9021, 979, 0.10)
    assert not fair.mismatch
    skewed = sample_ratio_check(9300, 700, 0.10)
    assert skewed.mismatch and skewed.p_value < 0.001
    expected = (9300 - 9000) ** 2 / 9000 + (700 - 1000) ** 2 / 1000
    assert skewed.statistic == pytest.approx(expected)
    assert skewed.p_value == pytest.approx(chi2.sf(expected, df=1))


def test_the_always_valid_interval_is_wider_than_the_fixed_one_and_contains_the_effect() -> None:
    control, challenger = ArmStats.binary(9000, 9000, 7200), ArmStats.binary(1000, 1000, 850)
    fixed = difference_test(control, challenger)
    valid = always_valid_test(control, challenger, tau=0.02)
    assert valid.ci_low < fixed.ci_low < fixed.effect < fixed.ci_high < valid.ci_high
    assert valid.p_value >= fixed.p_value
    assert valid.p_value == pytest.approx(min(1.0, 1 / valid.statistic))


def test_peeking_with_the_always_valid_test_keeps_the_false_positive_rate_under_alpha() -> None:
    """A/A experiments looked at after every 200 entities: at most alpha stop falsely."""
    rng = random.Random(11)
    runs, looks, batch, false_stops = 300, 25, 200, 0
    naive_stops = 0
    for _ in range(runs):
        sc = st = nc = nt = 0
        stopped = naive = False
        for _ in range(looks):
            nc += batch
            nt += batch
            sc += sum(rng.random() < 0.5 for _ in range(batch))
            st += sum(rng.random() < 0.5 for _ in range(batch))
            c, t = ArmStats.binary(nc, nc, sc), ArmStats.binary(nt, nt, st)
            stopped = stopped or always_valid_test(c, t, tau=0.05).p_value <= 0.05
            naive = naive or difference_test(c, t).p_value <= 0.05
        false_stops += stopped
        naive_stops += naive
    assert false_stops / runs <= 0.05
    assert naive_stops / runs > 0.10  # the fixed-horizon test does not survive peeking


def test_assignment_is_uniform_within_half_a_point_over_100k_ids() -> None:
    share = sum(assign(f"user-{i}", "salt-1") == CHALLENGER for i in range(100_000)) / 100_000
    assert abs(share - 0.10) <= 0.005
    half = sum(assign(f"user-{i}", "salt-2", 0.5) == CHALLENGER for i in range(100_000))
    assert abs(half / 100_000 - 0.5) <= 0.005


def test_assignment_is_the_same_in_another_process_with_another_hash_seed() -> None:
    ids = [f"user-{i}" for i in range(2000)]
    here = "".join("1" if assign(i, "exp-7") == CHALLENGER else "0" for i in ids)
    code = (
        "from lucid.contracts.experiments import assign, CHALLENGER\n"
        "ids = [f'user-{i}' for i in range(2000)]\n"
        "print(''.join('1' if assign(i, 'exp-7') == CHALLENGER else '0' for i in ids))\n"
    )
    for seed in ("0", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert out == here


@pytest.mark.parametrize(
    ("call", "sentence"),
    [
        (lambda: assign("", "s"), "entity_id: must be non-empty"),
        (lambda: assign("a", "s", 0), "challenger_share: must lie strictly between 0 and 1"),
        (lambda: minimum_sample_size(1.2, 0.1), "baseline: must be a proportion"),
        (lambda: minimum_sample_size(0.9, 0.2), "minimum_detectable_effect"),
        (lambda: sample_ratio_check(1, 1, 0.1, threshold=2), "srm_threshold"),
        (lambda: ArmStats.binary(5, 6, 1), "counts: need n_x ≤ measured ≤ exposed"),
        (
            lambda: always_valid_test(ArmStats.binary(1, 1, 1), ArmStats.binary(1, 1, 0), tau=0),
            "tau",
        ),
    ],
)
def test_bad_input_to_the_rules_is_one_sentence(call: object, sentence: str) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        call()  # type: ignore[operator]
