"""Drift statistics: each one a pure function of (reference, current) summaries, with a spec.

The heavy work — binning, counting, merging ECDFs over millions of rows — is SQL run by the
compute engine (the engine's `drift_queries`); what arrives here are small vectors of counts
(bins or categories) or statistics already reduced by SQL. Conventions, stated once:

- PSI = Σ (c_i - r_i) · ln(c_i / r_i) over bin shares, in nats; a share of 0 is replaced by
  `PSI_EPSILON` before the difference and the log (no renormalisation).
- Jensen-Shannon is the *distance* (square root of the divergence), base 2, in [0, 1]; empty
  bins need no epsilon (0 · log 0 = 0).
- Chi-square is the homogeneity test of the 2 x k table (reference, current) x categories;
  categories empty on both sides are dropped; p-value from χ²(k - 1).
- KS p-value: two-sided, asymptotic (`scipy.stats.kstwo` at n·m/(n+m), as
  `ks_2samp(method="asymp")`).
- No-drift PSI: with independent multinomial samples of n and m rows over B bins, PSI is
  approximately (1/n + 1/m) · χ²(B - 1); `psi_expected_no_drift` is its mean
  (1/n + 1/m)(B - 1) and `psi_no_drift_quantile` a quantile of it (default the 95th).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import special

from lucid.errors import InvalidInput

PSI_EPSILON = 1e-4
"""Share that replaces an empty bin in PSI (a fraction of rows)."""


@dataclass(frozen=True, slots=True)
class StatisticSpec:
    """Describes a drift statistic: its name, the column kinds it applies to, its unit and
    the default warning threshold used when a policy gives none."""

    name: str
    column_kinds: frozenset[str]
    unit: str
    default_warning: float


BOTH = frozenset({"numeric", "categorical"})
SPECS = {
    spec.name: spec
    for spec in (
        StatisticSpec("psi", BOTH, "nats", 0.1),
        StatisticSpec("jensen_shannon", BOTH, "distance, base 2, 0..1", 0.1),
        StatisticSpec("ks", frozenset({"numeric"}), "fraction", 0.1),
        StatisticSpec("ks_pvalue", frozenset({"numeric"}), "probability", 0.05),
        StatisticSpec("wasserstein", frozenset({"numeric"}), "reference standard deviations", 0.1),
        StatisticSpec("chi_square_pvalue", frozenset({"categorical"}), "probability", 0.05),
    )
}
"""Every data-drift statistic, by name."""


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    if total <= 0:
        raise InvalidInput("counts", "need at least one counted row to form shares")
    return [c / total for c in counts]


def _same_length(reference: Sequence[float], current: Sequence[float]) -> None:
    if len(reference) != len(current) or not reference:
        raise InvalidInput(
            "counts",
            f"reference and current must count the same non-empty bins "
            f"(got {len(reference)} and {len(current)})",
        )


def psi(
    reference: Sequence[float], current: Sequence[float], epsilon: float = PSI_EPSILON
) -> float:
    """Population stability index of two count vectors over the same bins, in nats."""
    _same_length(reference, current)
    total = 0.0
    for r, c in zip(_shares(reference), _shares(current), strict=True):
        r, c = max(r, epsilon), max(c, epsilon)
        total += (c - r) * math.log(c / r)
    return total


def jensen_shannon(reference: Sequence[float], current: Sequence[float]) -> float:
    """Jensen-Shannon distance (base 2) of two count vectors over the same bins, 0..1."""
    _same_length(reference, current)
    p, q = _shares(reference), _shares(current)
    divergence = 0.0
    for pi, qi in zip(p, q, strict=True):
        mi = (pi + qi) / 2
        if pi > 0:
            divergence += 0.5 * pi * math.log2(pi / mi)
        if qi > 0:
            divergence += 0.5 * qi * math.log2(qi / mi)
    return math.sqrt(max(divergence, 0.0))


@dataclass(frozen=True, slots=True)
class ChiSquare:
    statistic: float
    dof: int
    pvalue: float


def chi_square(reference: Sequence[float], current: Sequence[float]) -> ChiSquare:
    """Chi-square homogeneity test of (reference, current) counts over the same categories.

    Categories with no row on either side are dropped; with fewer than two left there is
    nothing to compare and the test reports statistic 0, p-value 1.
    """
    _same_length(reference, current)
    kept = [(r, c) for r, c in zip(reference, current, strict=True) if r + c > 0]
    if len(kept) < 2:
        return ChiSquare(0.0, 0, 1.0)
    n, m = float(sum(r for r, _ in kept)), float(sum(c for _, c in kept))
    if n <= 0 or m <= 0:
        raise InvalidInput("counts", "reference and current both need at least one row")
    total = n + m
    statistic = 0.0
    for r, c in kept:
        column = r + c
        for observed, side in ((r, n), (c, m)):
            expected = side * column / total
            statistic += (observed - expected) ** 2 / expected
    dof = len(kept) - 1
    return ChiSquare(statistic, dof, float(special.chdtrc(dof, statistic)))


def ks_pvalue(statistic: float, reference_rows: int, current_rows: int) -> float:
    """Two-sided asymptotic p-value of a two-sample KS statistic D."""
    if reference_rows < 1 or current_rows < 1:
        raise InvalidInput("rows", "the KS p-value needs at least one row on each side")
    # scipy.stats costs a second to import: only a policy asking for KS pays it.
    from scipy import stats

    effective = round(reference_rows * current_rows / (reference_rows + current_rows))
    return float(min(1.0, max(0.0, stats.kstwo.sf(statistic, max(effective, 1)))))


def psi_expected_no_drift(reference_rows: int, current_rows: int, bins: int) -> float:
    """Mean PSI between two same-distribution samples of these sizes over `bins` bins."""
    return (1 / reference_rows + 1 / current_rows) * (bins - 1)


def psi_no_drift_quantile(
    reference_rows: int, current_rows: int, bins: int, quantile: float = 0.95
) -> float:
    """The `quantile` of PSI between same-distribution samples: (1/n + 1/m)·χ²_q(bins - 1)."""
    if bins < 2:
        return 0.0
    chi_square = 2 * float(special.gammaincinv((bins - 1) / 2, quantile))  # χ²_q(bins - 1)
    return (1 / reference_rows + 1 / current_rows) * chi_square
