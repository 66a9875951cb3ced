"""The statistics of an A/B test on a binary outcome: sample size, the two-proportion test,
the always-valid sequential test, and the sample-ratio check.

- *fixed horizon* (default): the two-proportion z-test (pooled standard error for the p-value,
  unpooled Wald interval for the difference), valid once, when both arms reached the minimum
  sample computed for the stated minimum detectable effect (power 0.8, alpha 0.05 by default);
- *sequential*: the mixture sequential probability ratio test (mSPRT) with a normal mixing
  distribution over the difference of proportions, N(0, tau²) with tau = the minimum detectable
  effect, on the normal approximation of the difference. Its p-value min(1, 1/Lambda) and
  confidence interval are *always valid* (Ville's inequality): looking after every batch and
  stopping as soon as p ≤ alpha keeps the type-I error ≤ alpha. Reference: Johari, Koomen,
  Pekelis, Walsh, "Peeking at A/B Tests: Why it matters, and what to do about it", KDD 2017,
  and "Always Valid Inference", Operations Research 70(3), 2022.

A sample-ratio mismatch (chi-square test of the observed arm sizes against the designed
split, p < 0.001 by default) means the assignment or the logging is broken: the result is
invalid whatever its p-value.

Pure: no I/O. statsmodels and scipy are imported inside the functions that use them, so that
merely reading the event types stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lucid.contracts.experiments.assignment import (
    CHALLENGER,
    CONTROL,
    DEFAULT_CHALLENGER_SHARE,
    check_share,
)
from lucid.contracts.value import finite
from lucid.errors import InvalidInput

DEFAULT_SRM_THRESHOLD = 0.001


@dataclass(frozen=True, slots=True)
class SampleSize:
    """The minimum number of entities with an outcome each arm needs (whole entities)."""

    control: int
    challenger: int

    def to_dict(self) -> dict[str, int]:
        return {CONTROL: self.control, CHALLENGER: self.challenger}


def minimum_sample_size(
    baseline: float,
    minimum_detectable_effect: float,
    *,
    challenger_share: float = DEFAULT_CHALLENGER_SHARE,
    alpha: float = 0.05,
    power: float = 0.8,
) -> SampleSize:
    """Entities per arm to detect a change of the success rate from `baseline` by
    `minimum_detectable_effect` (absolute, in rate units, either sign) with a two-sided
    test at `alpha` and the given `power`, for the designed split (Cohen's h, normal power).
    """
    rate = finite(baseline, "baseline")
    if not 0 < rate < 1:
        raise InvalidInput(
            "baseline", f"must be a success rate strictly between 0 and 1, not {rate}"
        )
    effect = finite(minimum_detectable_effect, "minimum_detectable_effect")
    if effect == 0 or not 0 < rate + effect < 1:
        raise InvalidInput(
            "minimum_detectable_effect",
            f"must be non-zero and keep baseline + effect inside (0, 1), not {effect:g}",
        )
    share = check_share(challenger_share)
    alpha = check_share(finite(alpha, "alpha"), "alpha")
    power = check_share(finite(power, "power"), "power")
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(float(proportion_effectsize(rate + effect, rate)))
    ratio = (1 - share) / share  # control entities per challenger entity
    challenger = float(
        NormalIndPower().solve_power(
            effect_size=h, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
        )
    )
    return SampleSize(control=math.ceil(challenger * ratio), challenger=math.ceil(challenger))


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """One arm's counts: entities exposed, entities with an outcome, successes among them."""

    exposed: int
    measured: int
    successes: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.measured <= self.exposed:
            raise InvalidInput(
                "counts",
                f"need 0 ≤ successes ≤ measured ≤ exposed, not {self.successes}, "
                f"{self.measured}, {self.exposed}",
            )

    @property
    def rate(self) -> float | None:
        return self.successes / self.measured if self.measured else None


@dataclass(frozen=True, slots=True)
class ProportionTest:
    """Challenger rate minus control rate (`effect`), its interval and two-sided p-value."""

    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "statistic": self.statistic,
            "method": self.method,
        }


def rates(control: ArmCounts, challenger: ArmCounts) -> tuple[float, float]:
    for name, arm in ((CONTROL, control), (CHALLENGER, challenger)):
        if arm.measured < 1:
            raise InvalidInput(f"counts.{name}", "needs at least one entity with an outcome")
    return control.successes / control.measured, challenger.successes / challenger.measured


def two_proportion_test(
    control: ArmCounts, challenger: ArmCounts, alpha: float = 0.05
) -> ProportionTest:
    """Fixed-horizon z-test (statsmodels): pooled SE for p, Wald interval at 1 - alpha."""
    pc, pt = rates(control, challenger)
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    counts = [challenger.successes, control.successes]
    sizes = [challenger.measured, control.measured]
    if pc == pt and pc in (0.0, 1.0):  # no variance at all: nothing distinguishes the arms
        z, p = 0.0, 1.0
    else:
        z_raw, p_raw = proportions_ztest(counts, sizes, alternative="two-sided")
        z, p = float(z_raw), float(p_raw)
    low, high = confint_proportions_2indep(
        challenger.successes,
        challenger.measured,
        control.successes,
        control.measured,
        method="wald",
        compare="diff",
        alpha=alpha,
    )
    effect = pt - pc
    return ProportionTest(
        effect,
        min(float(low), effect),
        max(float(high), effect),
        min(max(p, 0.0), 1.0),
        z,
        "two-proportion z-test",
    )


def always_valid_test(
    control: ArmCounts, challenger: ArmCounts, *, tau: float, alpha: float = 0.05
) -> ProportionTest:
    """mSPRT with a N(0, tau²) mixture over the difference (see the module docstring).

    `statistic` is the mixture likelihood ratio Lambda; p = min(1, 1/Lambda) and the interval
    are valid at any look, however often one peeks.
    """
    pc, pt = rates(control, challenger)
    tau = finite(tau, "tau")
    if tau <= 0:
        raise InvalidInput("tau", f"must be positive, not {tau:g}")
    # A degenerate arm (0 % or 100 %) has no sampling variance; a half success keeps V > 0.
    vc = max(pc * (1 - pc), 0.25 / control.measured) / control.measured
    vt = max(pt * (1 - pt), 0.25 / challenger.measured) / challenger.measured
    variance, mixing = vc + vt, tau * tau
    effect = pt - pc
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
    return ProportionTest(
        effect,
        effect - half_width,
        effect + half_width,
        p_value,
        math.exp(min(log_lambda, 700.0)),
        "mSPRT always-valid (normal mixture)",
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
