"""A guardrail holds on the data only when the one-sided confidence bound of the challenger's
mean respects its limit (non-inferiority against the cap or floor)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lucid.contracts.experiments import ArmStats, Decision, Design, analyse
from lucid.contracts.experiments.analysis import guardrail_bounds
from lucid.contracts.value import Direction, Guardrail, GuardrailBound

CAP = Guardrail("compute_cost_per_day", GuardrailBound.CAP, 495)
FLOOR = Guardrail("precision", GuardrailBound.FLOOR, 0.6)


def arm(values: np.ndarray) -> ArmStats:
    n = len(values)
    return ArmStats(n, n, float(values.sum()), float((values * values).sum()))


def test_the_bound_is_the_one_sided_interval_of_the_mean_on_the_limit_side() -> None:
    rng = np.random.default_rng(3)
    cost, precision = rng.normal(480, 40, 50), rng.normal(0.65, 0.1, 80)
    bounds = guardrail_bounds(
        (CAP, FLOOR), {CAP.metric: arm(cost), FLOOR.metric: arm(precision)}, 0.05
    )
    upper = cost.mean() + stats.norm.ppf(0.95) * cost.std(ddof=1) / np.sqrt(50)
    lower = precision.mean() - stats.norm.ppf(0.95) * precision.std(ddof=1) / np.sqrt(80)
    assert bounds[CAP.metric] == pytest.approx(upper)
    assert bounds[FLOOR.metric] == pytest.approx(lower)


def test_a_mean_under_the_cap_with_too_little_data_does_not_hold() -> None:
    design = Design(
        experiment_id="exp-g",
        model="churn",
        control_version=1,
        challenger_version=2,
        metric="retention_rate",
        direction=Direction.HIGHER,
        guardrails=(CAP,),
        salt="exp-g",
        challenger_share=0.5,
        baseline=0.8,
        minimum_detectable_effect=0.05,
    )
    control, challenger = ArmStats.binary(1000, 1000, 800), ArmStats.binary(1000, 1000, 850)
    rng = np.random.default_rng(5)
    few = rng.normal(480, 60, 12)  # mean under 495, bound above it
    many = rng.normal(480, 60, 2000)
    assert few.mean() < 495
    shaky = analyse(design, control, challenger, guardrail_stats={CAP.metric: arm(few)})
    assert shaky.decision is Decision.GUARDRAIL_BROKEN
    assert shaky.challenger_guardrail_values[CAP.metric] > 495
    sure = analyse(design, control, challenger, guardrail_stats={CAP.metric: arm(many)})
    assert sure.decision is Decision.CHALLENGER_BETTER
    one = analyse(design, control, challenger, guardrail_stats={CAP.metric: arm(few[:1])})
    assert one.decision is Decision.GUARDRAIL_BROKEN and "unmeasured" in one.reason
