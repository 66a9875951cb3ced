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
- Evidence (`pvalue` of each measurement, see `drift`): PSI and Jensen-Shannon take the
  chi-square homogeneity test of the same bins or categories; KS D, the KS p-value and
  Wasserstein take the KS test of the same samples. Health shares take `one_sided_rise`
  (NULL share, hypergeometric), `outside_range_pvalue` (beta-binomial) and
  `new_category_pvalue` (beta-binomial).
- No-drift PSI: with independent multinomial samples of n and m rows over B bins, PSI is
  approximately (1/n + 1/m) · χ²(B - 1); `psi_expected_no_drift` is its mean
  (1/n + 1/m)(B - 1) and `psi_no_drift_quantile` a quantile of it (default the 95th).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import special

from lucid.contracts.validity.evidence import MINIMUM_EFFECT, PVALUE_BOUNDS
from lucid.errors import InvalidInput

PSI_EPSILON = 1e-4
"""Share that replaces an empty bin in PSI (a fraction of rows)."""


@dataclass(frozen=True, slots=True)
class StatisticSpec:
    """Describes a drift statistic: its name, the column kinds it applies to, its unit and
    its default warning bound: the minimum effect worth a warning for an effect statistic
    (`evidence.MINIMUM_EFFECT`), the adjusted p-value bound for a p-value statistic."""

    name: str
    column_kinds: frozenset[str]
    unit: str
    default_warning: float


BOTH = frozenset({"numeric", "categorical"})
SPECS = {
    spec.name: spec
    for spec in (
        StatisticSpec("psi", BOTH, "nats", MINIMUM_EFFECT["psi"]),
        StatisticSpec(
            "jensen_shannon", BOTH, "distance, base 2, 0..1", MINIMUM_EFFECT["jensen_shannon"]
        ),
        StatisticSpec("ks", frozenset({"numeric"}), "fraction", MINIMUM_EFFECT["ks"]),
        StatisticSpec("ks_pvalue", frozenset({"numeric"}), "probability", PVALUE_BOUNDS[0]),
        StatisticSpec(
            "wasserstein",
            frozenset({"numeric"}),
            "reference standard deviations",
            MINIMUM_EFFECT["wasserstein"],
        ),
        StatisticSpec(
            "chi_square_pvalue", frozenset({"categorical"}), "probability", PVALUE_BOUNDS[0]
        ),
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


def outside_range_pvalue(outside: int, usable: int, reference_usable: int) -> float:
    """P(at least `outside` of `usable` current values fall outside the range of
    `reference_usable` reference values) when both sides are one continuous distribution.

    The mass outside the reference's [min, max] is Beta(2, n - 1) (uniform order
    statistics), so the count is beta-binomial(m, 2, n - 1): exact without ties, and wider
    than the binomial at the mean share 2 / (n + 1), which would alarm too often at small n.
    """
    if outside <= 0 or usable <= 0:
        return 1.0
    if reference_usable < 2:
        return 1.0
    from scipy import stats  # imported when a test needs it (see ks_pvalue)

    return float(stats.betabinom.sf(outside - 1, usable, 2, reference_usable - 1))


def new_category_pvalue(
    new: int, usable: int, reference_other: int, reference_usable: int
) -> float:
    """P(at least `new` of `usable` current rows in categories the reference does not name)
    when the share of such rows is what the reference's pooled rare rows suggest: the count
    is beta-binomial(m, other + 1, n - other + 1) (the reference's other-share with a
    uniform prior, which also covers categories too rare to appear in n rows)."""
    if new <= 0 or usable <= 0 or reference_usable <= 0:
        return 1.0
    from scipy import stats  # imported when a test needs it (see ks_pvalue)

    alpha, beta = reference_other + 1, reference_usable - reference_other + 1
    return float(stats.betabinom.sf(new - 1, usable, alpha, beta))


def one_sided_rise(
    reference_hits: int, reference_rows: int, current_hits: int, current_rows: int
) -> float:
    """One-sided exact (Fisher) p-value that the current share of hits exceeds the
    reference's: P(X ≥ current hits), X hypergeometric over the pooled rows."""
    if current_hits <= 0 or current_rows <= 0 or reference_rows <= 0:
        return 1.0
    from scipy import stats  # imported when a test needs it (see ks_pvalue)

    total = reference_rows + current_rows
    hits = reference_hits + current_hits
    return float(stats.hypergeom.sf(current_hits - 1, total, hits, current_rows))


def vanished_pvalue(shares: Sequence[float], vanished: Sequence[float], rows: int) -> float:
    """A bound on P(a named category at least as common as the most common vanished one is
    absent from `rows` current rows): Σ (1 - p)^rows over named shares p ≥ that one's share
    (union bound; `shares` are the reference shares of the named categories)."""
    if not vanished or rows <= 0:
        return 1.0
    largest = max(vanished)
    total = sum(math.exp(rows * math.log1p(-p)) for p in shares if p >= largest and p < 1)
    return min(1.0, total)
