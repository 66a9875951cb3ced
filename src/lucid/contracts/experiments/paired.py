"""Paired tests of two scores on the same labelled rows: a challenger against production (the
control), or against "no model" when nothing serves production.

- `auc`: DeLong's test of two correlated AUCs (DeLong, DeLong & Clarke-Pearson, Biometrics
  44(3), 1988), computed with the fast midrank algorithm of Sun & Xu (IEEE Signal Processing
  Letters 21(11), 2014) in O(n log n). Against "no model" the control is a random ranking
  (AUC 0.5) and the test is DeLong's variance of the one AUC.
- `log_loss`: the mean of the per-row differences of log-loss (natural log), with its normal
  interval; lower is better. "No model" predicts the labels' base rate for every row.
- `precision_at_budget`: the share of positives among the top `budget_share` of rows by
  score (the entities the action budget reaches); the difference's interval and p-value come
  from a paired bootstrap of the rows (seeded). "No model" picks rows at random: its
  precision is the base rate.

Every `effect` is challenger minus control in the metric's unit, `ci_low`/`ci_high` at
`confidence` (two-sided) and `p_value` two-sided for H0 effect = 0. Pure: numpy and scipy are
imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lucid.errors import InvalidInput

NO_MODEL = "no model"
"""The control arm's name when no version serves production."""

BOOTSTRAP_RESAMPLES = 2000
"""Resamples of the paired bootstrap (precision at the budget)."""

_EPSILON = 1e-15
"""Scores are clipped to [eps, 1 - eps] before the logarithm of log-loss."""


@dataclass(frozen=True, slots=True)
class PairedTest:
    """One metric compared on the same rows: each arm's estimate and standard error, the
    difference (challenger − control) with its interval and two-sided p-value."""

    metric: str
    test: str
    pairs: int
    positives: int
    control: float
    challenger: float
    control_se: float
    challenger_se: float
    correlation: float | None
    effect: float
    se: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "test": self.test,
            "pairs": self.pairs,
            "positives": self.positives,
            "negatives": self.pairs - self.positives,
            "control": self.control,
            "challenger": self.challenger,
            "control_se": self.control_se,
            "challenger_se": self.challenger_se,
            "correlation": self.correlation,
            "effect": self.effect,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
        }


def paired_test(
    metric: str,
    labels: Sequence[int],
    challenger: Sequence[float],
    control: Sequence[float] | None,
    *,
    alpha: float = 0.05,
    budget_share: float = 0.05,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> PairedTest:
    """The paired test of `metric` (auc, log_loss or precision_at_budget); `control` None
    compares with "no model"."""
    if metric == "auc":
        return delong_test(labels, challenger, control, alpha=alpha)
    if metric == "log_loss":
        return log_loss_test(labels, challenger, control, alpha=alpha)
    if metric == "precision_at_budget":
        return precision_at_budget_test(
            labels,
            challenger,
            control,
            budget_share=budget_share,
            alpha=alpha,
            seed=seed,
            resamples=resamples,
        )
    raise InvalidInput(
        "metrics", f"{metric!r} is not a predictive metric (auc, log_loss, precision_at_budget)"
    )


def delong_test(
    labels: Sequence[int],
    challenger: Sequence[float],
    control: Sequence[float] | None,
    *,
    alpha: float = 0.05,
) -> PairedTest:
    """DeLong's test of AUC(challenger) − AUC(control) on the same rows; against AUC 0.5 when
    `control` is None. Needs at least one positive and one negative."""
    y, scores = _arrays(labels, challenger, control)
    aucs, covariance = _delong(y, scores)
    positives = int(y.sum())
    if control is None:
        variance = float(covariance[0, 0])
        effect, control_auc, correlation = float(aucs[0]) - 0.5, 0.5, None
        control_se, test = 0.0, "DeLong test of one AUC against 0.5 (no model)"
    else:
        variance = float(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
        effect, control_auc = float(aucs[0] - aucs[1]), float(aucs[1])
        control_se = math.sqrt(max(float(covariance[1, 1]), 0.0))
        correlation = _correlation(covariance)
        test = "DeLong test of two correlated AUCs"
    return _normal(
        "auc",
        test,
        y.size,
        positives,
        control_auc,
        float(aucs[0]),
        control_se,
        math.sqrt(max(float(covariance[0, 0]), 0.0)),
        correlation,
        effect,
        math.sqrt(max(variance, 0.0)),
        alpha,
    )


def delong_covariance(labels: Sequence[int], scores: Sequence[Sequence[float]]) -> Any:
    """(AUCs, DeLong covariance matrix) of several scores of the same labelled rows."""
    import numpy as np

    y = _labels(labels)
    stacked = np.asarray(scores, dtype=float)
    return _delong(y, stacked)


def log_loss_test(
    labels: Sequence[int],
    challenger: Sequence[float],
    control: Sequence[float] | None,
    *,
    alpha: float = 0.05,
) -> PairedTest:
    """The mean per-row difference of log-loss (challenger − control; lower is better) with
    its normal interval; the control predicts the base rate when `control` is None."""
    import numpy as np

    y, scores = _arrays(labels, challenger, control)
    n = y.size
    base = scores[1] if control is not None else np.full(n, y.mean())
    losses_challenger = _row_losses(y, scores[0])
    losses_control = _row_losses(y, base)
    differences = losses_challenger - losses_control
    se = float(differences.std(ddof=1) / math.sqrt(n))
    spread = float(losses_challenger.std(ddof=1)), float(losses_control.std(ddof=1))
    correlation = (
        float(np.corrcoef(losses_challenger, losses_control)[0, 1])
        if control is not None and min(spread) > 0
        else None
    )
    return _normal(
        "log_loss",
        "paired z-test of per-row log-loss differences"
        + ("" if control is not None else " (no model: the base rate)"),
        n,
        int(y.sum()),
        float(losses_control.mean()),
        float(losses_challenger.mean()),
        spread[1] / math.sqrt(n),
        spread[0] / math.sqrt(n),
        correlation,
        float(differences.mean()),
        se,
        alpha,
    )


def precision_at_budget_test(
    labels: Sequence[int],
    challenger: Sequence[float],
    control: Sequence[float] | None,
    *,
    budget_share: float = 0.05,
    alpha: float = 0.05,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> PairedTest:
    """Precision among the top `budget_share` of rows by score, challenger − control, with a
    paired bootstrap percentile interval and two-sided p-value over `resamples` resamples of
    the rows (numpy Generator seeded with `seed`). Ties at the budget's edge share it."""
    import numpy as np

    if not 0 < budget_share <= 1:
        raise InvalidInput("budget_share", f"must be in (0, 1], not {budget_share}")
    if resamples < 100:
        raise InvalidInput("resamples", f"must be at least 100, not {resamples}")
    y, scores = _arrays(labels, challenger, control)
    n = y.size
    budget = max(1, math.ceil(budget_share * n))
    orders = [np.argsort(-row, kind="stable") for row in scores]
    ones = np.ones((1, n))
    estimates = [float(_precisions(ones[:, order], y[order], budget)[0]) for order in orders]
    control_estimate = estimates[1] if control is not None else float(y.mean())
    rng = np.random.default_rng(seed)
    draws: list[Any] = []
    challenger_draws: list[Any] = []
    control_draws: list[Any] = []
    chunk = max(1, min(resamples, 4_000_000 // max(n, 1)))
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        picks = rng.integers(0, n, size=(size, n))
        flat = (picks + (np.arange(size) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * n).reshape(size, n)
        first = _top_precisions(counts, orders[0], y, budget)
        second = (
            _top_precisions(counts, orders[1], y, budget) if control is not None else counts @ y / n
        )
        challenger_draws.append(first)
        control_draws.append(second)
        draws.append(first - second)
        done += size
    differences = np.concatenate(draws)
    effect = estimates[0] - control_estimate
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    below = (int(np.sum(differences <= 0)) + 1) / (resamples + 1)
    above = (int(np.sum(differences >= 0)) + 1) / (resamples + 1)
    first_all, second_all = np.concatenate(challenger_draws), np.concatenate(control_draws)
    spread = float(first_all.std(ddof=1)), float(second_all.std(ddof=1))
    correlation = (
        float(np.corrcoef(first_all, second_all)[0, 1])
        if control is not None and min(spread) > 0
        else None
    )
    return PairedTest(
        metric="precision_at_budget",
        test=f"paired bootstrap ({resamples} resamples, seed {seed}) of precision in the top "
        f"{budget_share:g} of rows" + ("" if control is not None else " (no model: base rate)"),
        pairs=n,
        positives=int(y.sum()),
        control=control_estimate,
        challenger=estimates[0],
        control_se=spread[1],
        challenger_se=spread[0],
        correlation=correlation,
        effect=effect,
        se=float(differences.std(ddof=1)),
        ci_low=min(float(low), effect),
        ci_high=max(float(high), effect),
        confidence=1 - alpha,
        p_value=min(1.0, 2 * min(below, above)),
    )


# -- internals -------------------------------------------------------------------------------


def _labels(labels: Sequence[int]) -> Any:
    import numpy as np

    y = np.asarray(labels, dtype=float)
    if y.ndim != 1 or not np.isin(y, (0.0, 1.0)).all():
        raise InvalidInput("labels", "must be a list of 0 or 1")
    positives = int(y.sum())
    if positives == 0 or positives == y.size:
        raise InvalidInput("labels", "need both classes: at least one positive and one negative")
    return y


def _arrays(
    labels: Sequence[int], challenger: Sequence[float], control: Sequence[float] | None
) -> tuple[Any, Any]:
    """The labels (0/1 floats) and the scores, challenger first, one row per score."""
    import numpy as np

    y = _labels(labels)
    rows = [challenger] if control is None else [challenger, control]
    scores = np.asarray(rows, dtype=float)
    if scores.shape[1] != y.size:
        raise InvalidInput("scores", f"must hold one score per label ({y.size})")
    if not np.isfinite(scores).all():
        raise InvalidInput("scores", "must be finite numbers")
    return y, scores


def _delong(y: Any, scores: Any) -> tuple[Any, Any]:
    """Sun & Xu's fast DeLong: the AUC of each row of `scores` and their covariance."""
    import numpy as np
    from scipy.stats import rankdata

    order = np.argsort(-y, kind="stable")  # positives first
    m = int(y.sum())
    n = y.size - m
    ordered = np.atleast_2d(scores)[:, order]
    positives, negatives = ordered[:, :m], ordered[:, m:]
    within_positives = rankdata(positives, axis=1)
    within_negatives = rankdata(negatives, axis=1)
    combined = rankdata(ordered, axis=1)
    aucs = (combined[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v01 = (combined[:, :m] - within_positives) / n
    v10 = 1.0 - (combined[:, m:] - within_negatives) / m
    sx = np.atleast_2d(np.cov(v01)) if m > 1 else np.zeros((len(ordered), len(ordered)))
    sy = np.atleast_2d(np.cov(v10)) if n > 1 else np.zeros((len(ordered), len(ordered)))
    return aucs, sx / m + sy / n


def _correlation(covariance: Any) -> float | None:
    scale = math.sqrt(max(float(covariance[0, 0] * covariance[1, 1]), 0.0))
    return float(covariance[0, 1]) / scale if scale > 0 else None


def _row_losses(y: Any, p: Any) -> Any:
    import numpy as np

    clipped = np.clip(p, _EPSILON, 1 - _EPSILON)
    return -(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))


def _top_precisions(counts: Any, order: Any, y: Any, budget: int) -> Any:
    """Precision at the budget of each resample (a row of draw `counts` per row of the data),
    the data ranked by `order`. Only the head of the ranking can reach the budget: the rows
    past it are read only for a resample whose head drew fewer than `budget` rows."""
    import numpy as np

    head = order[: min(order.size, budget + 8 * math.isqrt(budget) + 64)]
    drawn = counts[:, head]
    short = drawn.sum(axis=1) < budget
    result = _precisions(drawn.astype(float), y[head], budget)
    if np.any(short):
        result[short] = _precisions(counts[short][:, order].astype(float), y[order], budget)
    return result


def _precisions(counts: Any, y_sorted: Any, budget: int) -> Any:
    """Precision of the first `budget` units of each row of `counts` (rows already in score
    order, each count the times a row is drawn)."""
    import numpy as np

    before = np.cumsum(counts, axis=1) - counts
    taken = np.clip(budget - before, 0, counts)
    return (taken @ y_sorted) / budget


def _normal(
    metric: str,
    test: str,
    pairs: int,
    positives: int,
    control: float,
    challenger: float,
    control_se: float,
    challenger_se: float,
    correlation: float | None,
    effect: float,
    se: float,
    alpha: float,
) -> PairedTest:
    """A test whose difference is normal with standard error `se`."""
    from scipy.stats import norm

    if not 0 < alpha < 1:
        raise InvalidInput("alpha", f"must be between 0 and 1, not {alpha}")
    if se > 0:
        half = float(norm.ppf(1 - alpha / 2)) * se
        p_value = float(2 * norm.sf(abs(effect) / se))
    else:
        half, p_value = 0.0, 1.0 if effect == 0 else 0.0
    return PairedTest(
        metric=metric,
        test=test,
        pairs=pairs,
        positives=positives,
        control=control,
        challenger=challenger,
        control_se=control_se,
        challenger_se=challenger_se,
        correlation=correlation,
        effect=effect,
        se=se,
        ci_low=effect - half,
        ci_high=effect + half,
        confidence=1 - alpha,
        p_value=p_value,
    )
