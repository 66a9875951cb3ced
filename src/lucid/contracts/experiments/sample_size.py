"""How many entities each arm of an A/B test needs: normal power, and CUPED's reduction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lucid.contracts.experiments.assignment import (
    CHALLENGER,
    CONTROL,
    DEFAULT_CHALLENGER_SHARE,
    check_share,
)
from lucid.contracts.value import finite
from lucid.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class SampleSize:
    """The minimum number of entities with an outcome each arm needs (whole entities)."""

    control: int
    challenger: int

    @property
    def total(self) -> int:
        return self.control + self.challenger

    def to_dict(self) -> dict[str, int]:
        return {CONTROL: self.control, CHALLENGER: self.challenger}


def _power_inputs(
    challenger_share: float, alpha: float, power: float
) -> tuple[float, float, float]:
    share = check_share(challenger_share)
    return (
        share,
        check_share(finite(alpha, "alpha"), "alpha"),
        check_share(finite(power, "power"), "power"),
    )


def _solve(effect_size: float, share: float, alpha: float, power: float) -> SampleSize:
    """Entities per arm for a standardised effect (normal power, two-sided, statsmodels)."""
    from statsmodels.stats.power import NormalIndPower

    ratio = (1 - share) / share  # control entities per challenger entity
    challenger = float(
        NormalIndPower().solve_power(
            effect_size=effect_size, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
        )
    )
    return SampleSize(control=math.ceil(challenger * ratio), challenger=math.ceil(challenger))


def minimum_sample_size(
    baseline: float,
    minimum_detectable_effect: float,
    *,
    challenger_share: float = DEFAULT_CHALLENGER_SHARE,
    alpha: float = 0.05,
    power: float = 0.8,
) -> SampleSize:
    """Entities per arm to detect a change of a binary metric's mean (a proportion) from
    `baseline` by `minimum_detectable_effect` (absolute, either sign) with a two-sided test
    at `alpha` and the given `power`, for the designed split (Cohen's h, normal power).
    """
    rate = finite(baseline, "baseline")
    if not 0 < rate < 1:
        raise InvalidInput(
            "baseline",
            f"must be a proportion strictly between 0 and 1 for a binary metric, not {rate}",
        )
    effect = finite(minimum_detectable_effect, "minimum_detectable_effect")
    if effect == 0 or not 0 < rate + effect < 1:
        raise InvalidInput(
            "minimum_detectable_effect",
            f"must be non-zero and keep baseline + effect inside (0, 1), not {effect:g}",
        )
    share, alpha, power = _power_inputs(challenger_share, alpha, power)
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(float(proportion_effectsize(rate + effect, rate)))
    return _solve(h, share, alpha, power)


def minimum_sample_size_means(
    standard_deviation: float,
    minimum_detectable_effect: float,
    *,
    challenger_share: float = DEFAULT_CHALLENGER_SHARE,
    alpha: float = 0.05,
    power: float = 0.8,
) -> SampleSize:
    """Entities per arm to detect a difference in means of `minimum_detectable_effect`
    (metric units, either sign) for a metric of per-entity `standard_deviation` (same in
    both arms), two-sided at `alpha` with the given `power` (normal power, statsmodels)."""
    sd = finite(standard_deviation, "metric_sd")
    if sd <= 0:
        raise InvalidInput("metric_sd", f"must be positive, not {sd:g}")
    effect = finite(minimum_detectable_effect, "minimum_detectable_effect")
    if effect == 0:
        raise InvalidInput("minimum_detectable_effect", "must be non-zero")
    share, alpha, power = _power_inputs(challenger_share, alpha, power)
    return _solve(abs(effect) / sd, share, alpha, power)


def shrink(size: SampleSize, correlation: float) -> SampleSize:
    """The sample CUPED needs with a covariate of correlation `correlation` with the metric:
    the variance, hence the sample, times (1 - rho²)."""
    rho = finite(correlation, "covariate_correlation")
    if not 0 <= abs(rho) < 1:
        raise InvalidInput("covariate_correlation", f"must lie in (-1, 1), not {rho:g}")
    factor = 1 - rho * rho
    return SampleSize(
        control=max(2, math.ceil(size.control * factor)),
        challenger=max(2, math.ceil(size.challenger * factor)),
    )
