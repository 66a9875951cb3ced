"""CUPED, numeric and lower-is-better metrics, non-inferiority and the design's duration,
checked against numpy computations by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from lucid.contracts.experiments import (
    ArmStats,
    Decision,
    Design,
    analyse,
    difference_test,
    evidence_of,
    minimum_sample_size_means,
)
from lucid.contracts.value import Comparison, Direction
from lucid.errors import InvalidInput


def stats(y: np.ndarray, x: np.ndarray | None = None) -> ArmStats:
    n = len(y)
    if x is None:
        return ArmStats(n, n, float(y.sum()), float((y * y).sum()))
    return ArmStats(
        n, n, float(y.sum()), float((y * y).sum()), n, float(x.sum()), float((x * x).sum()),
        float((x * y).sum()),
    )  # fmt: skip


def correlated(n: int, shift: float, seed: int, rho: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 2, n)
    noise = rng.normal(0, 2 * math.sqrt(1 - rho * rho) / rho, n)
    return x + noise + shift, x


def design(**changes: Any) -> Design:
    fields: dict[str, Any] = {
        "experiment_id": "exp-9",
        "model": "churn",
        "control_version": 1,
        "challenger_version": 2,
        "metric": "sessions",
        "direction": Direction.HIGHER,
        "guardrails": (),
        "salt": "exp-9",
        "challenger_share": 0.5,
        "baseline": 10.0,
        "minimum_detectable_effect": 0.5,
        "metric_sd": 2.5,
    }
    fields.update(changes)
    return Design(**fields)


def test_cuped_matches_the_adjustment_computed_by_hand_and_removes_rho_squared() -> None:
    yc, xc = correlated(4000, 0.0, 1)
    yt, xt = correlated(4000, 0.1, 2)
    result = difference_test(stats(yc, xc), stats(yt, xt))
    # By hand: pooled within-arm theta, adjusted y, Welch standard error of the difference.
    sxx = ((xc - xc.mean()) ** 2).sum() + ((xt - xt.mean()) ** 2).sum()
    sxy = ((xc - xc.mean()) * (yc - yc.mean())).sum() + ((xt - xt.mean()) * (yt - yt.mean())).sum()
    theta = sxy / sxx
    mean_x = np.r_[xc, xt].mean()
    ac, at = yc - theta * (xc - mean_x), yt - theta * (xt - mean_x)
    se = math.sqrt(ac.var(ddof=1) / len(ac) + at.var(ddof=1) / len(at))
    raw_se = math.sqrt(yc.var(ddof=1) / len(yc) + yt.var(ddof=1) / len(yt))
    assert result.theta == pytest.approx(theta)
    assert result.effect == pytest.approx(at.mean() - ac.mean())
    assert result.standard_error == pytest.approx(se)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(result.effect) / se))
    assert result.raw_effect == pytest.approx(yt.mean() - yc.mean())
    assert result.variance_reduction == pytest.approx(1 - se**2 / raw_se**2)
    assert result.variance_reduction == pytest.approx(0.64, abs=0.04)  # rho = 0.8
    without = difference_test(stats(yc, xc), stats(yt, xt), use_covariate=False)
    assert without.theta is None and without.standard_error == pytest.approx(raw_se)


def test_cuped_is_skipped_when_an_entity_lacks_its_covariate() -> None:
    yc, xc = correlated(100, 0.0, 3)
    partial = ArmStats(100, 100, float(yc.sum()), float((yc * yc).sum()), 99, 1.0, 1.0, 1.0)
    result = difference_test(partial, stats(yc, xc))
    assert result.theta is None and "CUPED" not in result.method


def test_a_lower_is_better_metric_decides_in_its_direction() -> None:
    yc, xc = correlated(3000, 0.0, 4)
    yt, xt = correlated(3000, -0.4, 5)  # the challenger lowers the metric
    lower = analyse(design(direction=Direction.LOWER), stats(yc, xc), stats(yt, xt))
    assert lower.decision is Decision.CHALLENGER_BETTER
    higher = analyse(design(direction=Direction.HIGHER), stats(yc, xc), stats(yt, xt))
    assert higher.decision is Decision.CONTROL_BETTER
    evidence = evidence_of(lower, "2026-12-06T00:00:00Z")
    assert evidence.direction is Direction.LOWER and evidence.effect < 0
    assert evidence.data["theta"] is not None and evidence.data["variance_reduction"] > 0.5
    assert evidence.test.endswith("CUPED-adjusted") and evidence.origin == "lucid"


@pytest.mark.parametrize(("n", "shift", "expected"), [
    (3000, 0.0, Decision.CHALLENGER_NON_INFERIOR),
    (3000, -1.0, Decision.CONTROL_BETTER),
    (1100, 0.1, Decision.NO_DIFFERENCE),  # without covariate: the worse bound beyond 0.3
])  # fmt: skip
def test_non_inferiority_is_the_worse_bound_within_the_margin(
    n: int, shift: float, expected: Decision
) -> None:
    plan = design(comparison=Comparison.NON_INFERIORITY, margin=0.3, minimum_detectable_effect=0.3)
    yc, xc = correlated(n, 0.0, 6)
    yt, xt = correlated(n, shift, 7)
    covariates = (xc, xt) if expected is not Decision.NO_DIFFERENCE else (None, None)
    analysis = analyse(plan, stats(yc, covariates[0]), stats(yt, covariates[1]))
    assert analysis.decision is expected, analysis.reason
    if expected is Decision.CHALLENGER_NON_INFERIOR:
        assert analysis.test is not None and analysis.test.ci_low > -0.3
        assert "margin 0.3" in analysis.reason


def test_the_numeric_minimum_sample_is_the_normal_formula_and_cuped_shrinks_it() -> None:
    size = minimum_sample_size_means(2.5, 0.5, challenger_share=0.5)
    by_hand = (norm.ppf(0.975) + norm.ppf(0.8)) ** 2 * 2 * 2.5**2 / 0.5**2
    assert size.challenger == math.ceil(by_hand) and size.control == math.ceil(by_hand)
    shrunk = design(covariate_correlation=0.6).minimum_sample()
    assert shrunk.challenger == math.ceil(size.challenger * (1 - 0.36))
    summary = design(entities_per_day=100.0).plan_summary()
    assert summary["total"] == 2 * size.challenger
    assert summary["days_needed"] == math.ceil(size.challenger / 50)


def test_a_design_that_cannot_reach_its_sample_proposes_the_smallest_share_that_can() -> None:
    with pytest.raises(InvalidInput, match="planned_days: the test needs") as refused:
        design(challenger_share=0.05, entities_per_day=100.0, planned_days=30.0)
    sentence = str(refused.value)
    share = float(sentence.split("a challenger share of ")[1].split(" ")[0])
    assert 0.05 < share <= 0.5 and "nothing stored" in sentence
    fits = design(challenger_share=share, entities_per_day=100.0, planned_days=30.0)
    assert fits.days_needed() is not None and fits.days_needed() <= 30  # type: ignore[operator]
    with pytest.raises(InvalidInput):
        design(challenger_share=share - 0.001, entities_per_day=100.0, planned_days=30.0)
    with pytest.raises(InvalidInput, match=r"no share up to 0\.5 reaches it within 2 days; at "):
        design(entities_per_day=100.0, planned_days=2.0)


@pytest.mark.parametrize(("changes", "sentence"), [
    ({"metric_sd": None}, "baseline: must be a proportion"),
    ({"metric_sd": -1.0}, "metric_sd: must be positive"),
    ({"minimum_detectable_effect": -0.5}, "minimum_detectable_effect: must be a positive"),
    ({"comparison": Comparison.NON_INFERIORITY}, "margin: a non-inferiority test needs"),
    ({"margin": 0.2}, "margin: only a non-inferiority test"),
    ({"covariate_correlation": 1.0}, "covariate_correlation: must lie in"),
    ({"entities_per_day": 0.0}, "entities_per_day: must be positive"),
])  # fmt: skip
def test_bad_designs_are_one_sentence(changes: dict[str, Any], sentence: str) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        design(**changes)
