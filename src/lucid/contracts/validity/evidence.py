"""Grading on effect and evidence: a drift check reaches a level only when what moved is large
enough to matter AND the run's data show it is not noise.

- The family: every measurement of the run that carries a p-value and is graded (sufficient,
  with a value), one per test (`details["test"]`: statistics of one column that read the same
  test count once). Its p-values are adjusted together by Holm's step-down method, so the chance
  that a run with no drift at all raises any tested check is at most the policy's
  `false_alarm_budget`, however many columns and statistics it watches.
- An effect metric (PSI, Jensen-Shannon, KS D, Wasserstein, health shares) with a p-value
  reaches warning or critical only when its value reaches that bound AND its adjusted p-value
  is at or below the budget; otherwise it is ok and the note says the evidence was short.
- A p-value metric (`ks_pvalue`, `chi_square_pvalue`) is graded on its adjusted p-value
  against its bounds, needs the same adjusted p-value at or below the budget (a bound above
  the budget acts as the budget), and needs its test's effect (`details["effect"]`: KS D,
  categorical PSI) to reach that statistic's minimum effect: a trivial shift is ok at any n.
- A measurement without a p-value (no meaningful test: accuracy drops, volume, vanished
  categories of a one-row reference...) is graded on its effect alone.

Effect bounds (`MINIMUM_EFFECT`, `LARGE_EFFECT`) are the values each statistic takes when a
normal column's mean moves by 0.15 and 0.5 of its standard deviation (PSI and
Jensen-Shannon over reference deciles), measured with `bench/drift_power.py`'s population
formulas: below Cohen's "small" effect (0.2 sd) so that a 0.25 sd shift clears the minimum
despite sampling noise at 2,000 rows, and at Cohen's "medium" one (0.5 sd) for critical.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from lucid.contracts.validity.actions import Action
from lucid.contracts.validity.grades import DriftType, Level
from lucid.contracts.validity.metrics import Measurement, metric_spec
from lucid.contracts.validity.thresholds import Threshold
from lucid.errors import InvalidInput

DEFAULT_FALSE_ALARM_BUDGET = 0.01
"""Largest chance that a run with no drift raises any tested check (family-wise)."""

MINIMUM_EFFECT: Mapping[str, float] = {
    "psi": 0.02,
    "jensen_shannon": 0.06,
    "ks": 0.06,
    "wasserstein": 0.15,
}
"""The smallest effect worth a warning, per statistic: a 0.15 sd mean shift of a normal
(PSI 0.0216 and JS 0.0623 over deciles, KS D 0.0598, Wasserstein 0.15 sd)."""

LARGE_EFFECT: Mapping[str, float] = {
    "psi": 0.2,
    "jensen_shannon": 0.2,
    "ks": 0.2,
    "wasserstein": 0.5,
}
"""A large effect, critical by default: a 0.5 sd shift (PSI 0.238, JS 0.205, KS D 0.197)."""

EFFECT_OF_TEST: Mapping[str, str] = {"ks_pvalue": "ks", "chi_square_pvalue": "psi"}
"""The effect each p-value metric's test measures (its `details["effect"]`)."""

PVALUE_BOUNDS = (0.01, 0.001)
"""(warning, critical) of a p-value metric's default threshold (adjusted p-values)."""


def check_budget(budget: object) -> float:
    """`budget` as a false-alarm budget, or refused: a number strictly between 0 and 1."""
    if isinstance(budget, bool) or not isinstance(budget, int | float):
        raise InvalidInput(
            "false_alarm_budget", f"must be a probability between 0 and 1, not {budget!r}"
        )
    if not math.isfinite(budget) or not 0 < budget < 1:
        raise InvalidInput(
            "false_alarm_budget",
            f"must be strictly between 0 and 1 (0 never alarms, 1 always may), not {budget:g}",
        )
    return float(budget)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of `pvalues` (same order): the k-th smallest becomes
    max over j ≤ k of min(1, (m - j + 1) · p_(j))."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted


def tested(measurement: Measurement) -> bool:
    """Whether `measurement` joins the run's family: graded, with a p-value."""
    return (
        measurement.pvalue is not None
        and measurement.sufficient
        and measurement.value is not None
        and not math.isnan(measurement.value)
    )


def adjusted_pvalues(measurements: Sequence[Measurement]) -> dict[int, float]:
    """Holm-adjusted p-value of each tested measurement, by position in `measurements`.

    Measurements that share one test (`details["test"]`, e.g. PSI and Jensen-Shannon of one
    column both read its chi-square test) count once in the family: one hypothesis, one p."""
    keys: dict[tuple[object, ...], list[int]] = {}
    for i, m in enumerate(measurements):
        if tested(m):
            test = m.details.get("test") or m.metric
            keys.setdefault((m.feature, m.segment, str(test), m.pvalue), []).append(i)
    groups = list(keys.values())
    adjusted = holm([float(measurements[group[0]].pvalue or 0.0) for group in groups])
    return {i: p for group, p in zip(groups, adjusted, strict=True) for i in group}


def grade(
    threshold: Threshold,
    measurement: Measurement,
    adjusted: float | None,
    budget: float,
) -> tuple[Level, Measurement]:
    """The level of `measurement` under `threshold` given its adjusted p-value, and the
    measurement with a note added when a value past the threshold lacked evidence or effect."""
    if adjusted is None:
        return threshold.grade(measurement.value, sufficient=measurement.sufficient), measurement
    effect_level = (
        threshold.grade(adjusted)
        if measurement.metric in EFFECT_OF_TEST
        else threshold.grade(measurement.value, sufficient=measurement.sufficient)
    )
    if effect_level not in (Level.WARNING, Level.CRITICAL):
        return effect_level, measurement
    reasons = []
    if adjusted > budget:
        reasons.append(
            f"adjusted p {adjusted:.2g} > budget {budget:g} at "
            f"{measurement.reference_rows}/{measurement.current_rows} rows"
        )
    effect_metric = EFFECT_OF_TEST.get(measurement.metric)
    if effect_metric is not None:
        effect = measurement.details.get("effect")
        floor = MINIMUM_EFFECT[effect_metric]
        if not isinstance(effect, int | float) or effect < floor:
            shown = f"{effect:.3g}" if isinstance(effect, int | float) else "unknown"
            reasons.append(f"{effect_metric} {shown} < minimum effect {floor:g}")
    if not reasons:
        return effect_level, measurement
    note = f"{effect_level.value} not raised: " + "; ".join(reasons)
    joined = f"{measurement.note}; {note}" if measurement.note else note
    return Level.OK, dataclasses.replace(measurement, note=joined)


def drift_threshold(
    metric: str,
    warning_actions: Sequence[Action],
    critical_actions: Sequence[Action],
    *,
    feature: str | None = None,
    segment: str | None = None,
    drift_type: DriftType = DriftType.DATA,
) -> Threshold:
    """The default threshold of a drift statistic: warning at its minimum effect, critical at
    a large effect; for a p-value metric, adjusted p-values `PVALUE_BOUNDS`."""
    if metric in EFFECT_OF_TEST:
        warning, critical = PVALUE_BOUNDS
    elif metric in MINIMUM_EFFECT:
        warning, critical = MINIMUM_EFFECT[metric], LARGE_EFFECT[metric]
    else:
        metric_spec(metric)
        raise InvalidInput("metric", f"{metric} is not a drift statistic with a default")
    return Threshold(
        drift_type,
        metric,
        warning,
        critical,
        tuple(warning_actions),
        tuple(critical_actions),
        feature=feature,
        segment=segment,
    )
