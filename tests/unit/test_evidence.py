"""Grading on effect and evidence (`contracts/validity/evidence.py`): Holm's adjustment, the
false-alarm budget, the rule for effect metrics and for p-value metrics, and the one-sided
tests of the health shares (their null distributions checked by simulation)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from lucid.contracts.validity import MonitoringPolicy, Reporting
from lucid.contracts.validity.actions import Action, ActionKind
from lucid.contracts.validity.evidence import (
    DEFAULT_FALSE_ALARM_BUDGET,
    LARGE_EFFECT,
    MINIMUM_EFFECT,
    PVALUE_BOUNDS,
    check_budget,
    drift_threshold,
    grade,
    holm,
)
from lucid.contracts.validity.generic_policy import generic_policy
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import Measurement
from lucid.errors import InvalidInput
from lucid.monitoring.statistics import (
    SPECS,
    new_category_pvalue,
    one_sided_rise,
    outside_range_pvalue,
    vanished_pvalue,
)

ACT = (Action(ActionKind.INVESTIGATE),)
PSI = drift_threshold("psi", ACT, ACT)
KS_P = drift_threshold("ks_pvalue", ACT, ACT)


def measurement(
    metric: str, value: float | None, pvalue: float | None, **kw: object
) -> Measurement:
    return Measurement(
        metric, value, feature="x", reference_rows=480, current_rows=510, pvalue=pvalue, **kw
    )  # type: ignore[arg-type]


def test_holm_matches_its_definition_and_keeps_the_order() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([]) == []
    assert holm([0.7]) == [0.7]
    assert holm([0.6, 0.6]) == [1.0, 1.0]
    rng = np.random.default_rng(3)
    for _ in range(200):
        values = list(rng.random(rng.integers(1, 12)))
        adjusted = holm(values)
        assert all(a >= v for a, v in zip(adjusted, values, strict=True))
        ranked = sorted(zip(values, adjusted, strict=True))
        assert all(a <= b for (_, a), (_, b) in itertools.pairwise(ranked))


@pytest.mark.parametrize("bad", [0, 1, -1, "x", True, math.nan, math.inf, 1.5, None])
def test_a_budget_outside_zero_one_is_refused_with_a_sentence(bad: object) -> None:
    with pytest.raises(InvalidInput) as error:
        check_budget(bad)
    assert str(error.value).startswith("false_alarm_budget: must be")
    raw = MonitoringPolicy.churn_default().to_mapping() | {"false_alarm_budget": bad}
    with pytest.raises(InvalidInput, match="false_alarm_budget"):
        MonitoringPolicy.from_mapping(raw)


def test_the_budget_round_trips_and_a_stored_policy_without_it_reads_the_default() -> None:
    policy = MonitoringPolicy.churn_default()
    assert policy.false_alarm_budget == DEFAULT_FALSE_ALARM_BUDGET == 0.01
    raw = policy.to_mapping() | {"false_alarm_budget": 0.05}
    read = MonitoringPolicy.from_mapping(raw)
    assert read.false_alarm_budget == 0.05
    assert read.with_thresholds(read.thresholds[:1]).false_alarm_budget == 0.05
    assert MonitoringPolicy.from_mapping(read.to_mapping()) == read
    del raw["false_alarm_budget"]
    assert MonitoringPolicy.from_mapping(raw).false_alarm_budget == 0.01
    assert [t.warning for t in policy.thresholds if t.metric == "psi"] == [0.1]


def test_the_minimum_effects_are_the_specs_defaults_and_the_generic_policys_warning() -> None:
    for metric, floor in MINIMUM_EFFECT.items():
        assert SPECS[metric].default_warning == floor
        assert drift_threshold(metric, ACT, ACT).warning == floor
        assert drift_threshold(metric, ACT, ACT).critical == LARGE_EFFECT[metric]
    for metric in ("ks_pvalue", "chi_square_pvalue"):
        assert SPECS[metric].default_warning == PVALUE_BOUNDS[0]
    psi = next(t for t in generic_policy("churn", "ana").thresholds if t.metric == "psi")
    assert (psi.warning, psi.critical) == (MINIMUM_EFFECT["psi"], LARGE_EFFECT["psi"])


# The rule for an effect metric: (value, adjusted p) -> level, at budget 0.01.
EFFECT_CASES = [
    (0.01, None, Level.OK),
    (0.05, None, Level.WARNING),  # no test: effect alone
    (0.3, None, Level.CRITICAL),
    (0.01, 1e-9, Level.OK),  # evidence, no effect
    (0.05, 0.01, Level.WARNING),  # at the budget
    (0.05, 0.0100001, Level.OK),
    (0.3, 1e-9, Level.CRITICAL),
    (0.3, 0.2, Level.OK),  # a large value of a small window, no evidence
]


@pytest.mark.parametrize(("value", "adjusted", "level"), EFFECT_CASES)
def test_an_effect_metric_needs_its_effect_and_its_evidence(
    value: float, adjusted: float | None, level: Level
) -> None:
    found, noted = grade(PSI, measurement("psi", value, adjusted), adjusted, 0.01)
    assert found is level
    lacking = adjusted is not None and adjusted > 0.01 and value >= PSI.warning
    assert ("not raised" in (noted.note or "")) is lacking


def test_the_note_says_why_a_value_past_the_threshold_was_not_graded() -> None:
    _, noted = grade(PSI, measurement("psi", 0.3, 0.23, note="earlier"), 0.23, 0.01)
    assert noted.note == (
        "earlier; critical not raised: adjusted p 0.23 > budget 0.01 at 480/510 rows"
    )


@pytest.mark.parametrize(
    ("adjusted", "effect", "level"),
    [
        (0.5, 0.5, Level.OK),
        (0.005, 0.1, Level.WARNING),
        (0.0005, 0.1, Level.CRITICAL),
        (1e-30, 0.03, Level.OK),  # large n, trivial shift
        (1e-30, None, Level.OK),  # no effect given: not raised
        (0.0005, 0.06, Level.CRITICAL),  # at the minimum effect
    ],
)
def test_a_pvalue_metric_is_graded_on_its_adjusted_pvalue_and_needs_the_minimum_effect(
    adjusted: float, effect: float | None, level: Level
) -> None:
    details = {} if effect is None else {"effect": effect}
    m = measurement("ks_pvalue", adjusted / 3, adjusted / 3, details=details)
    found, noted = grade(KS_P, m, adjusted, 0.01)
    assert found is level
    if effect is not None and effect < MINIMUM_EFFECT["ks"] and adjusted <= 0.01:
        assert f"ks {effect:.3g} < minimum effect 0.06" in (noted.note or "")


def test_a_pvalue_bound_looser_than_the_budget_acts_as_the_budget() -> None:
    loose = KS_P.__class__(KS_P.drift_type, "ks_pvalue", 0.05, 0.001, ACT, ACT)
    m = measurement("ks_pvalue", 0.03, 0.03, details={"effect": 0.2})
    assert grade(loose, m, 0.03, 0.01)[0] is Level.OK
    assert grade(loose, m, 0.03, 0.05)[0] is Level.WARNING


def policy(*metrics: str, budget: float = 0.01) -> MonitoringPolicy:
    return MonitoringPolicy(
        "churn",
        tuple(drift_threshold(m, ACT, ACT) for m in metrics),
        Reporting(("ana",)),
        false_alarm_budget=budget,
    )


def test_evaluate_adjusts_across_every_tested_measurement_of_the_run() -> None:
    one = [measurement("psi", 0.05, 0.006)]
    evaluation = policy("psi").evaluate(one)
    assert [c.level for c in evaluation.checks] == [Level.WARNING]
    assert evaluation.checks[0].adjusted_pvalue == pytest.approx(0.006)
    two = [*one, Measurement("psi", 0.05, feature="y", pvalue=0.006)]
    evaluation = policy("psi").evaluate(two)
    assert [c.level for c in evaluation.checks] == [Level.OK, Level.OK]
    assert [c.adjusted_pvalue for c in evaluation.checks] == pytest.approx([0.012, 0.012])
    assert policy("psi", budget=0.02).evaluate(two).level is Level.WARNING
    # insufficient measurements and measurements no threshold grades are not in the family
    small = Measurement("psi", 0.9, feature="z", pvalue=0.001, sufficient=False)
    ungraded = Measurement("ks", 0.9, feature="z", pvalue=0.001)
    evaluation = policy("psi").evaluate([*one, small, ungraded])
    assert [c.level for c in evaluation.checks] == [Level.WARNING, Level.INSUFFICIENT_DATA]
    assert evaluation.checks[1].adjusted_pvalue is None


def test_a_hundred_columns_of_pure_noise_raise_nothing() -> None:
    rng = np.random.default_rng(11)
    flagged = 0
    for _ in range(300):
        measured = [
            Measurement("psi", 1.0, feature=f"c{i}", pvalue=float(p))
            for i, p in enumerate(rng.random(100))
        ]
        flagged += policy("psi").evaluate(measured).level is not Level.OK
    assert flagged <= 6  # family-wise 1 %: 3 expected at most in 300 runs


# -- the health shares' one-sided tests ------------------------------------------------------


def _rejection_rate(pvalues: np.ndarray, alpha: float) -> float:
    return float((pvalues <= alpha).mean())


def test_outside_range_pvalue_holds_its_level_on_the_reference_distribution() -> None:
    rng = np.random.default_rng(5)
    for n, m in ((200, 200), (500, 2000)):
        reference, current = rng.random((3000, n)), rng.random((3000, m))
        low, high = reference.min(axis=1)[:, None], reference.max(axis=1)[:, None]
        outside = ((current < low) | (current > high)).sum(axis=1)
        pvalues = np.array([outside_range_pvalue(int(k), m, n) for k in outside])
        assert _rejection_rate(pvalues, 0.01) <= 0.01 + 0.006
        assert _rejection_rate(pvalues, 0.1) >= 0.04  # not trivially conservative
    assert outside_range_pvalue(0, 200, 200) == 1.0
    assert outside_range_pvalue(40, 200, 200) < 1e-10


def test_the_null_share_rise_is_fishers_one_sided_test() -> None:
    table = [[60, 140], [10, 190]]  # current 60 of 200 missing, reference 10 of 200
    expected = stats.fisher_exact(table, alternative="greater").pvalue
    assert one_sided_rise(10, 200, 60, 200) == pytest.approx(expected, rel=1e-9)
    assert one_sided_rise(0, 1000, 0, 1000) == 1.0
    assert one_sided_rise(100, 1000, 50, 1000) > 0.99


def test_new_and_vanished_category_pvalues() -> None:
    assert new_category_pvalue(0, 500, 0, 1000) == 1.0
    assert new_category_pvalue(25, 500, 0, 1000) < 1e-10  # 5 % new where none was
    assert new_category_pvalue(5, 500, 10, 1000) > 0.3  # the reference's rare 1 %
    assert vanished_pvalue([0.5, 0.3, 0.2], [], 500) == 1.0
    assert vanished_pvalue([0.5, 0.3, 0.2], [0.2], 500) < 1e-40
    assert vanished_pvalue([0.998, 0.001, 0.001], [0.001], 200) == 1.0


def test_statistics_reading_one_test_count_once_in_the_family() -> None:
    shared = {"test": "chi_square"}
    psi = Measurement("psi", 0.05, feature="x", pvalue=0.006, details=shared)
    js = Measurement("jensen_shannon", 0.07, feature="x", pvalue=0.006, details=shared)
    evaluation = policy("psi", "jensen_shannon").evaluate([psi, js])
    assert [c.level for c in evaluation.checks] == [Level.WARNING, Level.WARNING]
    assert [c.adjusted_pvalue for c in evaluation.checks] == pytest.approx([0.006, 0.006])
    other_column = Measurement("psi", 0.05, feature="y", pvalue=0.006, details=shared)
    evaluation = policy("psi", "jensen_shannon").evaluate([psi, js, other_column])
    assert [c.adjusted_pvalue for c in evaluation.checks] == pytest.approx([0.012] * 3)


def test_every_drift_statistic_and_health_share_carries_its_pvalue_on_duckdb() -> None:
    import pandas as pd

    from lucid.engines.duckdb import DuckDBEngine
    from lucid.monitoring.drift import measure_data_drift
    from lucid.monitoring.health import measure_health
    from lucid.monitoring.profiles import build_profile

    rng = np.random.default_rng(2)
    reference = pd.DataFrame(
        {"x": rng.normal(0, 1, 2000), "k": rng.choice(["a", "b", "c"], 2000, p=[0.5, 0.3, 0.2])}
    )
    current = pd.DataFrame(
        {"x": rng.normal(0.5, 1, 2000), "k": rng.choice(["a", "b", "d"], 2000, p=[0.5, 0.3, 0.2])}
    )
    current.loc[:599, "x"] = None
    with DuckDBEngine() as engine:
        engine.register("reference", reference)
        engine.register("current", current)
        profile = build_profile(engine, "reference")
        drift = {(m.metric, m.feature): m for m in measure_data_drift(engine, "current", profile)}
        health = {(m.metric, m.feature): m for m in measure_health(engine, "current", profile)}
    ks = drift[("ks", "x")]
    assert ks.pvalue == pytest.approx(stats.kstwo.sf(ks.value, round(1400 * 2000 / 3400)), rel=1e-6)
    assert drift[("wasserstein", "x")].pvalue == ks.pvalue
    assert drift[("ks_pvalue", "x")].details["effect"] == ks.value
    assert drift[("psi", "x")].pvalue == drift[("jensen_shannon", "x")].pvalue < 1e-10
    assert drift[("psi", "x")].details["test"] == "chi_square"
    chi = drift[("chi_square_pvalue", "k")]
    assert chi.pvalue == chi.value and chi.details["effect"] == drift[("psi", "k")].value
    assert health[("null_share_rise", "x")].pvalue < 1e-100
    assert health[("null_share_rise", "k")].pvalue == 1.0
    assert health[("new_category_share", "k")].pvalue < 1e-100
    assert health[("vanished_category_share", "k")].pvalue < 1e-100
    assert 0 < health[("out_of_range_share", "x")].pvalue <= 1
    assert health[("null_share", "x")].pvalue is None
    assert health[("volume_ratio", None)].pvalue is None
