"""The paired tests of shadow comparisons, checked against independent computations: sklearn's
AUC, DeLong's variance by its definition (O(n²)), scipy's normal tail; their false-positive
rate under equal skill and their power against a clearly better score."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import log_loss, roc_auc_score

from lucid.contracts.experiments.paired import (
    delong_covariance,
    delong_test,
    log_loss_test,
    paired_test,
    precision_at_budget_test,
)
from lucid.errors import InvalidInput


def _world(n: int, seed: int, skill: tuple[float, float] = (1.0, 1.0)):
    """Labels and two scores sharing a latent signal, each with its own noise."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(signal - 1.0)))).astype(int)
    scores = [1 / (1 + np.exp(-(s * signal + rng.normal(size=n) - 1.0))) for s in skill]
    return y, scores[0], scores[1]


def _slow_delong(y, scores):
    """DeLong's structural components by definition: psi(x, y) = 1, 1/2 or 0, O(m n)."""
    positives = [s[y == 1] for s in scores]
    negatives = [s[y == 0] for s in scores]
    m, n = len(positives[0]), len(negatives[0])
    v10, v01, aucs = [], [], []
    for pos, neg in zip(positives, negatives, strict=True):
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    s10, s01 = np.cov(np.array(v10)), np.cov(np.array(v01))
    return np.array(aucs), s10 / m + s01 / n


def test_aucs_and_covariance_match_sklearn_and_the_definition() -> None:
    y, a, b = _world(300, 1, (1.2, 0.8))
    b = np.round(b, 2)  # ties, which the midranks must share
    aucs, covariance = delong_covariance(y.tolist(), [a.tolist(), b.tolist()])
    assert aucs[0] == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert aucs[1] == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    slow_aucs, slow_covariance = _slow_delong(y, [a, b])
    np.testing.assert_allclose(aucs, slow_aucs, atol=1e-12)
    np.testing.assert_allclose(covariance, slow_covariance, rtol=1e-9, atol=1e-15)


def test_delong_difference_its_interval_and_p_value() -> None:
    y, a, b = _world(400, 2, (1.5, 0.7))
    result = delong_test(y.tolist(), a.tolist(), b.tolist(), alpha=0.05)
    slow_aucs, cov = _slow_delong(y, [a, b])
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert result.effect == pytest.approx(slow_aucs[0] - slow_aucs[1])
    assert result.se == pytest.approx(se)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(result.effect) / se))
    assert result.ci_low == pytest.approx(result.effect - norm.ppf(0.975) * se)
    assert result.ci_high == pytest.approx(result.effect + norm.ppf(0.975) * se)
    assert result.correlation == pytest.approx(cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1]))
    assert (result.pairs, result.positives) == (400, int(y.sum()))


def test_delong_against_no_model_is_one_auc_against_one_half() -> None:
    y, a, _ = _world(250, 3)
    result = delong_test(y.tolist(), a.tolist(), None, alpha=0.01)
    slow_aucs, cov = _slow_delong(y, [a])
    se = math.sqrt(float(np.atleast_2d(cov)[0, 0]))
    assert result.control == 0.5
    assert result.challenger == pytest.approx(roc_auc_score(y, a))
    assert result.effect == pytest.approx(slow_aucs[0] - 0.5)
    assert result.se == pytest.approx(se)
    assert result.ci_low == pytest.approx(result.effect - norm.ppf(0.995) * se)
    assert result.confidence == pytest.approx(0.99)
    assert result.p_value < 1e-6


def test_log_loss_differences_match_sklearn() -> None:
    y, a, b = _world(500, 4, (1.3, 1.0))
    result = log_loss_test(y.tolist(), a.tolist(), b.tolist())
    assert result.challenger == pytest.approx(log_loss(y, a))
    assert result.control == pytest.approx(log_loss(y, b))
    differences = -(y * np.log(a) + (1 - y) * np.log(1 - a)) + (
        y * np.log(b) + (1 - y) * np.log(1 - b)
    )
    se = differences.std(ddof=1) / math.sqrt(len(y))
    assert result.effect == pytest.approx(differences.mean())
    assert result.p_value == pytest.approx(2 * norm.sf(abs(differences.mean()) / se))
    no_model = log_loss_test(y.tolist(), a.tolist(), None)
    assert no_model.control == pytest.approx(log_loss(y, np.full(len(y), y.mean())))


def test_precision_at_budget_is_the_top_share_and_the_bootstrap_is_seeded() -> None:
    y, a, b = _world(1000, 5, (2.0, 0.5))
    result = precision_at_budget_test(y.tolist(), a.tolist(), b.tolist(), budget_share=0.1)
    top = np.argsort(-a)[:100]
    assert result.challenger == pytest.approx(y[top].mean())
    assert result.control == pytest.approx(y[np.argsort(-b)[:100]].mean())
    assert result.ci_low <= result.effect <= result.ci_high
    again = precision_at_budget_test(y.tolist(), a.tolist(), b.tolist(), budget_share=0.1)
    assert again == result
    assert result.p_value < 0.05 and result.ci_low > 0
    no_model = precision_at_budget_test(y.tolist(), a.tolist(), None, budget_share=0.1)
    assert no_model.control == pytest.approx(y.mean())


def test_the_bootstrap_interval_matches_a_plain_resampling_loop() -> None:
    y, a, b = _world(200, 6, (1.5, 1.0))
    result = precision_at_budget_test(
        y.tolist(), a.tolist(), b.tolist(), budget_share=0.2, resamples=2000, seed=11
    )
    rng = np.random.default_rng(99)
    slow = []
    for _ in range(2000):
        pick = rng.integers(0, 200, 200)
        ya, sa, sb = y[pick], a[pick], b[pick]
        slow.append(
            ya[np.argsort(-sa, kind="stable")[:40]].mean() - ya[np.argsort(-sb)[:40]].mean()
        )
    low, high = np.quantile(slow, [0.025, 0.975])
    assert result.ci_low == pytest.approx(low, abs=0.03)
    assert result.ci_high == pytest.approx(high, abs=0.03)


@pytest.mark.parametrize("metric", ["auc", "log_loss"])
def test_equal_skill_rejects_at_most_about_alpha(metric: str) -> None:
    # 2,000 runs: the rate's binomial sd is 0.5 points (a few hundred runs swing 3.5 to 8 %).
    rejections = 0
    runs = 2000
    for seed in range(runs):
        y, a, b = _world(300, 1000 + seed)
        rejections += paired_test(metric, y, a, b, alpha=0.05).p_value <= 0.05
    assert rejections / runs <= 0.06


def test_equal_skill_bootstrap_rejects_at_most_about_alpha() -> None:
    rejections = 0
    runs = 150
    for seed in range(runs):
        y, a, b = _world(300, 5000 + seed)
        result = paired_test("precision_at_budget", y, a, b, budget_share=0.2, resamples=400)
        rejections += result.p_value <= 0.05
    assert rejections / runs <= 0.08  # 150 runs: a binomial sd of 1.8 points


@pytest.mark.parametrize("metric", ["auc", "log_loss", "precision_at_budget"])
def test_a_clearly_better_score_is_detected(metric: str) -> None:
    detected = 0
    for seed in range(20):
        rng = np.random.default_rng(9000 + seed)
        logit = rng.normal(size=2000) - 1.0
        y = (rng.random(2000) < 1 / (1 + np.exp(-logit))).astype(int)
        sharp = 1 / (1 + np.exp(-(logit + 0.3 * rng.normal(size=2000))))
        blurred = 1 / (1 + np.exp(-(logit + 1.5 * rng.normal(size=2000))))
        result = paired_test(metric, y, sharp, blurred, budget_share=0.1, resamples=500)
        detected += result.ci_high < 0 if metric == "log_loss" else result.ci_low > 0
    assert detected >= 18


def test_one_class_only_is_refused() -> None:
    with pytest.raises(InvalidInput, match="both classes"):
        delong_test([1, 1, 1], [0.1, 0.2, 0.3], None)
    with pytest.raises(InvalidInput, match="predictive metric"):
        paired_test("accuracy", [0, 1], [0.1, 0.9], None)


def test_the_bootstrap_reads_past_the_head_when_a_resample_drew_too_few_of_it() -> None:
    from lucid.contracts.experiments.paired import _precisions, _top_precisions

    rng = np.random.default_rng(3)
    n, budget = 400, 50
    y = rng.integers(0, 2, n).astype(float)
    order = np.argsort(-rng.random(n))
    counts = rng.poisson(1.0, size=(6, n))
    counts[2, order[:300]] = 0  # this resample drew nothing of the head
    full = _precisions(counts[:, order].astype(float), y[order], budget)
    np.testing.assert_allclose(_top_precisions(counts, order, y, budget), full)
