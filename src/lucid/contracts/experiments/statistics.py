"""The statistics of an A/B test on a per-entity metric: the difference in means (optionally
CUPED-adjusted), the always-valid sequential test, and the sample-ratio check (the sample size
is `lucid.contracts.experiments.sample_size`'s).

The metric per entity is any finite number (0/1 for a binary metric such as retention). Each
arm is summarised by its sufficient statistics (`ArmStats`), which one SQL aggregate returns.

- *fixed horizon* (default): the difference in means with the unpooled (Welch, normal)
  standard error, a two-sided p-value for H0 effect = 0 and the interval at 1 - alpha; valid
  once, when both arms reached the minimum sample;
- *CUPED* (Deng, Xu, Kohavi, Walker, WSDM 2013): with a pre-period covariate x per entity,
  each y is replaced by y - theta (x - mean x), theta = the pooled within-arm cov(y, x) /
  var(x); the difference of adjusted means keeps its expectation and loses the share rho² of
  its variance explained by x;
- *sequential*: the mixture sequential probability ratio test (mSPRT) with a N(0, tau²)
  mixing distribution over the (adjusted) difference, on its normal approximation with the
  estimated variance. Its p-value min(1, 1/Lambda) and interval are *always valid* (Ville's
  inequality): stopping as soon as p <= alpha keeps the type-I error <= alpha. Reference:
  Johari, Koomen, Pekelis, Walsh, "Always Valid Inference", Operations Research 70(3), 2022.

A sample-ratio mismatch (chi-square test of the observed arm sizes against the designed
split, p < 0.001 by default) means the assignment or the logging is broken: the result is
invalid whatever its p-value.

Pure: no I/O; statsmodels and scipy are imported inside the functions that use them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lucid.contracts.experiments.assignment import CHALLENGER, CONTROL, check_share
from lucid.contracts.value import finite
from lucid.errors import InvalidInput

DEFAULT_SRM_THRESHOLD = 0.001


@dataclass(frozen=True, slots=True)
class ArmStats:
    """One arm's sufficient statistics over its measured entities.

    `exposed` entities, `measured` of them with an outcome y, `sum_y`, `sum_y2`; and over the
    `n_x` measured entities that also have a pre-period covariate x: `sum_x`, `sum_x2`,
    `sum_xy`. Binary metrics have y in {0, 1}: `sum_y` is then the count of ones.
    """

    exposed: int
    measured: int
    sum_y: float
    sum_y2: float
    n_x: int = 0
    sum_x: float = 0.0
    sum_x2: float = 0.0
    sum_xy: float = 0.0

    def __post_init__(self) -> None:
        for name in ("exposed", "measured", "n_x"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"counts.{name}", f"must be a whole number ≥ 0, not {value!r}")
        if not self.n_x <= self.measured <= self.exposed:
            raise InvalidInput(
                "counts",
                f"need n_x ≤ measured ≤ exposed, not {self.n_x}, {self.measured}, {self.exposed}",
            )
        for name in ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy"):
            object.__setattr__(self, name, finite(getattr(self, name), f"counts.{name}"))
        if self.sum_y2 < 0 or self.sum_x2 < 0:
            raise InvalidInput("counts", "sums of squares cannot be negative")

    @classmethod
    def binary(cls, exposed: int, measured: int, successes: int) -> ArmStats:
        """The statistics of a 0/1 metric from its count of ones."""
        if not 0 <= successes <= measured:
            raise InvalidInput("counts", f"need 0 ≤ ones ≤ measured, not {successes} of {measured}")
        return cls(exposed, measured, float(successes), float(successes))

    @property
    def mean(self) -> float | None:
        return self.sum_y / self.measured if self.measured else None

    @property
    def variance(self) -> float:
        """The sample variance of y (n - 1 denominator; 0 below two entities)."""
        if self.measured < 2:
            return 0.0
        centred = self.sum_y2 - self.sum_y * self.sum_y / self.measured
        return max(centred, 0.0) / (self.measured - 1)

    @property
    def covered(self) -> bool:
        """Every measured entity has a covariate."""
        return self.measured > 0 and self.n_x == self.measured

    def to_dict(self) -> dict[str, Any]:
        return {
            "exposed": self.exposed,
            "measured": self.measured,
            "mean": self.mean,
            "variance": self.variance,
            "with_covariate": self.n_x,
        }


@dataclass(frozen=True, slots=True)
class EffectTest:
    """Challenger mean minus control mean (`effect`), its interval and two-sided p-value.

    `standard_error` is the effect's; `raw_effect`, `raw_standard_error` the unadjusted ones
    (equal to the first when no covariate was used); `theta` the CUPED coefficient (None
    without covariate) and `variance_reduction` 1 - var_adjusted / var_raw of the effect.
    """

    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    method: str
    standard_error: float
    raw_effect: float
    raw_standard_error: float
    theta: float | None = None
    variance_reduction: float = 0.0
    adjusted_means: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "statistic": self.statistic,
            "method": self.method,
            "standard_error": self.standard_error,
            "raw": {"effect": self.raw_effect, "standard_error": self.raw_standard_error},
            "adjusted": None
            if self.adjusted_means is None
            else {
                "effect": self.effect,
                "standard_error": self.standard_error,
                CONTROL: self.adjusted_means[0],
                CHALLENGER: self.adjusted_means[1],
            },
            "theta": self.theta,
            "variance_reduction": self.variance_reduction,
        }


@dataclass(frozen=True, slots=True)
class _Difference:
    """The (adjusted) difference in means and its variance, before any test."""

    effect: float
    variance: float
    raw_effect: float
    raw_variance: float
    theta: float | None
    adjusted_means: tuple[float, float] | None

    @property
    def reduction(self) -> float:
        if self.theta is None or self.raw_variance <= 0:
            return 0.0
        return 1 - self.variance / self.raw_variance


def _difference(control: ArmStats, challenger: ArmStats, use_covariate: bool) -> _Difference:
    for name, arm in ((CONTROL, control), (CHALLENGER, challenger)):
        if arm.measured < 1:
            raise InvalidInput(f"counts.{name}", "needs at least one entity with an outcome")
    mc, mt = control.sum_y / control.measured, challenger.sum_y / challenger.measured
    raw_effect = mt - mc
    raw_variance = control.variance / control.measured + challenger.variance / challenger.measured
    arms = (control, challenger)
    if not (use_covariate and all(a.covered and a.measured >= 2 for a in arms)):
        return _Difference(raw_effect, raw_variance, raw_effect, raw_variance, None, None)
    # Pooled within-arm moments: the treatment's shift of y does not leak into theta.
    sxx = sum(a.sum_x2 - a.sum_x * a.sum_x / a.measured for a in arms)
    sxy = sum(a.sum_xy - a.sum_x * a.sum_y / a.measured for a in arms)
    if sxx <= 0:  # a constant covariate explains nothing
        return _Difference(raw_effect, raw_variance, raw_effect, raw_variance, None, None)
    theta = sxy / sxx
    pooled_x = (control.sum_x + challenger.sum_x) / (control.measured + challenger.measured)

    def adjusted(arm: ArmStats) -> tuple[float, float]:
        n = arm.measured
        mean_x = arm.sum_x / n
        var_x = max(arm.sum_x2 - arm.sum_x * arm.sum_x / n, 0.0) / (n - 1)
        cov = (arm.sum_xy - arm.sum_x * arm.sum_y / n) / (n - 1)
        var = max(arm.variance + theta * theta * var_x - 2 * theta * cov, 0.0)
        return arm.sum_y / n - theta * (mean_x - pooled_x), var / n

    (ac, vc), (at, vt) = adjusted(control), adjusted(challenger)
    return _Difference(at - ac, vc + vt, raw_effect, raw_variance, theta, (ac, at))


def _method(base: str, difference: _Difference) -> str:
    return base + (", CUPED-adjusted" if difference.theta is not None else "")


def difference_test(
    control: ArmStats, challenger: ArmStats, alpha: float = 0.05, *, use_covariate: bool = True
) -> EffectTest:
    """Fixed-horizon test of the difference in means: unpooled (Welch) standard error,
    normal reference, interval at 1 - alpha; CUPED-adjusted when every measured entity of
    both arms has a covariate and `use_covariate`."""
    alpha = check_share(finite(alpha, "alpha"), "alpha")
    d = _difference(control, challenger, use_covariate)
    from scipy.stats import norm

    se = math.sqrt(d.variance)
    if se == 0:
        z, p = 0.0, 1.0 if d.effect == 0 else 0.0
    else:
        z = d.effect / se
        p = float(2 * norm.sf(abs(z)))
    half = float(norm.ppf(1 - alpha / 2)) * se
    return EffectTest(
        d.effect,
        d.effect - half,
        d.effect + half,
        min(max(p, 0.0), 1.0),
        z,
        _method("difference in means (Welch, normal)", d),
        se,
        d.raw_effect,
        math.sqrt(d.raw_variance),
        d.theta,
        d.reduction,
        d.adjusted_means,
    )


def always_valid_test(
    control: ArmStats,
    challenger: ArmStats,
    *,
    tau: float,
    alpha: float = 0.05,
    use_covariate: bool = True,
) -> EffectTest:
    """mSPRT with a N(0, tau²) mixture over the (adjusted) difference (see the module
    docstring). `statistic` is the mixture likelihood ratio Lambda; p = min(1, 1/Lambda) and
    the interval are valid at any look, however often one peeks."""
    tau = finite(tau, "tau")
    if tau <= 0:
        raise InvalidInput("tau", f"must be positive, not {tau:g}")
    alpha = check_share(finite(alpha, "alpha"), "alpha")
    d = _difference(control, challenger, use_covariate)
    # A degenerate sample (every y equal) has no sampling variance: half a unit per arm keeps
    # V > 0 (for a 0/1 metric: half a success).
    floor = 0.25 / control.measured**2 + 0.25 / challenger.measured**2
    variance, mixing = (d.variance if d.variance > 0 else floor), tau * tau
    effect = d.effect
    log_lambda = 0.5 * math.log(variance / (variance + mixing)) + effect * effect * mixing / (
        2 * variance * (variance + mixing)
    )
    p_value = 1.0 if log_lambda <= 0 else min(1.0, math.exp(-log_lambda))
    half_width = math.sqrt(
        2
        * variance
        * (variance + mixing)
        / mixing
        * (math.log(1 / alpha) + 0.5 * math.log((variance + mixing) / variance))
    )
    return EffectTest(
        effect,
        effect - half_width,
        effect + half_width,
        p_value,
        math.exp(min(log_lambda, 700.0)),
        _method("mSPRT always-valid (normal mixture)", d),
        math.sqrt(variance),
        d.raw_effect,
        math.sqrt(d.raw_variance),
        d.theta,
        d.reduction,
        d.adjusted_means,
    )


@dataclass(frozen=True, slots=True)
class RatioCheck:
    """The sample-ratio-mismatch check: chi-square of arm sizes against the designed split."""

    control: int
    challenger: int
    expected_share: float
    statistic: float
    p_value: float
    threshold: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "challenger": self.challenger,
            "expected_challenger_share": self.expected_share,
            "observed_challenger_share": self.challenger / (self.control + self.challenger)
            if self.control + self.challenger
            else None,
            "chi_square": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "mismatch": self.mismatch,
        }


def sample_ratio_check(
    control: int,
    challenger: int,
    challenger_share: float,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> RatioCheck:
    """Pearson's chi-square (1 degree of freedom) of the observed arm sizes (scipy)."""
    share = check_share(challenger_share)
    limit = check_share(threshold, "srm_threshold")
    total = control + challenger
    if total == 0:
        return RatioCheck(control, challenger, share, 0.0, 1.0, limit)
    from scipy.stats import chisquare

    result = chisquare([control, challenger], [total * (1 - share), total * share])
    return RatioCheck(
        control, challenger, share, float(result.statistic), float(result.pvalue), limit
    )
