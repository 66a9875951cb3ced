"""Drift statistics computed by DuckDB SQL, checked against scipy and hand computations."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from lucid.contracts.validity import Level, Measurement, MonitoringPolicy, Reporting, Threshold
from lucid.contracts.validity.profiles import OTHER, NumericProfile
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.monitoring import statistics
from lucid.monitoring.drift import measure_data_drift
from lucid.monitoring.profiles import build_profile, psi_edges


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine() as duck:
        yield duck


def measure(
    engine: DuckDBEngine,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    minimum_rows: int = 1,
    segment: str | None = None,
    metrics: frozenset[str] = frozenset(statistics.SPECS),
) -> dict[tuple[str, str | None, str | None], Measurement]:
    engine.register("reference", reference)
    engine.register("current", current)
    profile = build_profile(engine, "reference", segment_column=segment)
    found = measure_data_drift(
        engine, "current", profile, metrics=metrics, minimum_rows=minimum_rows
    )
    return {(m.metric, m.feature, m.segment): m for m in found}


def fixed_samples() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 800).round(0),  # ties on purpose
            "income": rng.lognormal(10, 0.5, 800),
            "plan": rng.choice(["free", "pro", "team"], 800, p=[0.6, 0.3, 0.1]),
        }
    )
    current = pd.DataFrame(
        {
            "age": rng.normal(43, 11, 650).round(0),
            "income": rng.lognormal(10.1, 0.5, 650),
            "plan": rng.choice(["free", "pro", "team"], 650, p=[0.5, 0.3, 0.2]),
        }
    )
    return reference, current


# --- pure formulas -----------------------------------------------------------------------


def test_psi_matches_the_hand_formula_and_uses_the_stated_epsilon() -> None:
    reference, current = [30, 50, 20], [20, 50, 30]
    r, c = np.array(reference) / 100, np.array(current) / 100
    assert statistics.psi(reference, current) == pytest.approx(
        float(np.sum((c - r) * np.log(c / r)))
    )
    assert statistics.psi(reference, reference) == 0.0
    with_empty = statistics.psi([50, 50, 0], [40, 40, 20])
    eps = statistics.PSI_EPSILON
    expected = 2 * (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.2 - eps) * math.log(0.2 / eps)
    assert with_empty == pytest.approx(expected)


def test_jensen_shannon_matches_scipy_base_2() -> None:
    reference, current = [30, 50, 20, 0], [20, 50, 25, 5]
    assert statistics.jensen_shannon(reference, current) == pytest.approx(
        jensenshannon(reference, current, base=2)
    )
    assert statistics.jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)


def test_chi_square_matches_scipy_contingency() -> None:
    reference, current = [300, 200, 100, 0], [250, 260, 90, 40]
    expected = stats.chi2_contingency(np.array([reference, current]), correction=False)
    found = statistics.chi_square(reference, current)
    assert found.statistic == pytest.approx(expected.statistic)
    assert found.pvalue == pytest.approx(expected.pvalue)
    assert found.dof == expected.dof
    # a category empty on both sides is dropped, one category alone is no test
    assert statistics.chi_square([5, 0], [7, 0]) == statistics.ChiSquare(0.0, 0, 1.0)


def test_count_vectors_must_match() -> None:
    with pytest.raises(InvalidInput, match=r"counts: reference and current must count the same"):
        statistics.psi([1, 2], [1, 2, 3])
    with pytest.raises(InvalidInput, match=r"counts: need at least one counted row"):
        statistics.psi([0, 0], [1, 1])


def test_no_drift_psi_expectation_is_stated_both_ways() -> None:
    assert statistics.psi_expected_no_drift(500, 500, 10) == pytest.approx(0.036)
    assert statistics.psi_no_drift_quantile(500, 500, 10) == pytest.approx(
        0.004 * stats.chi2.ppf(0.95, 9)
    )
    # at 100 rows a side a fixed 0.1 is near the no-drift 95th percentile: why small
    # windows are insufficient data
    assert statistics.psi_no_drift_quantile(100, 100, 10) > 0.3


# --- SQL statistics against scipy on fixed data ------------------------------------------


def test_sql_statistics_match_scipy_on_fixed_data(engine: DuckDBEngine) -> None:
    reference, current = fixed_samples()
    found = measure(engine, reference, current)
    for column in ("age", "income"):
        ks = stats.ks_2samp(reference[column], current[column], method="asymp")
        assert found["ks", column, None].value == pytest.approx(ks.statistic, abs=1e-12)
        assert found["ks_pvalue", column, None].value == pytest.approx(ks.pvalue, rel=1e-9)
        w1 = stats.wasserstein_distance(reference[column], current[column])
        assert found["wasserstein", column, None].value == pytest.approx(
            w1 / reference[column].std(ddof=0), rel=1e-9
        )
        edges = np.quantile(reference[column], np.arange(1, 10) / 10)
        ref_bins = np.bincount(np.searchsorted(edges, reference[column], "left"), minlength=10)
        cur_bins = np.bincount(np.searchsorted(edges, current[column], "left"), minlength=10)
        if len(set(edges)) == len(edges):  # no tied deciles: the plain numpy bins apply
            assert found["psi", column, None].value == pytest.approx(
                statistics.psi(ref_bins.tolist(), cur_bins.tolist())
            )
            assert found["jensen_shannon", column, None].value == pytest.approx(
                jensenshannon(ref_bins, cur_bins, base=2)
            )
    plan_ref = reference["plan"].value_counts().reindex(["free", "pro", "team"])
    plan_cur = current["plan"].value_counts().reindex(["free", "pro", "team"])
    chi = stats.chi2_contingency(np.array([plan_ref, plan_cur]), correction=False)
    assert found["chi_square_pvalue", "plan", None].value == pytest.approx(chi.pvalue)
    assert found["jensen_shannon", "plan", None].value == pytest.approx(
        jensenshannon(plan_ref, plan_cur, base=2)
    )
    psi_plan = found["psi", "plan", None]
    assert psi_plan.value == pytest.approx(
        statistics.psi([*plan_ref.tolist(), 0], [*plan_cur.tolist(), 0])
    )
    assert psi_plan.expected_no_drift == pytest.approx((1 / 800 + 1 / 650) * 2)


def test_ks_from_a_quantile_summary_stays_within_a_thousandth(engine: DuckDBEngine) -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=20_000)})
    current = pd.DataFrame({"x": rng.normal(0.05, 1.1, size=5_000)})
    found = measure(engine, reference, current)
    exact = stats.ks_2samp(reference.x, current.x)
    assert found["ks", "x", None].value == pytest.approx(exact.statistic, abs=1.5e-3)
    assert "1000 reference quantiles" in (found["ks", "x", None].note or "")
    w1 = stats.wasserstein_distance(reference.x, current.x) / reference.x.std(ddof=0)
    assert found["wasserstein", "x", None].value == pytest.approx(w1, rel=0.02)


def test_psi_bins_are_right_closed_reference_deciles() -> None:
    assert psi_edges([1.0, 2.0, 2.0, 3.0], 0.0) == (1.0, 2.0, 3.0)
    constant = psi_edges([5.0] * 9, 5.0)
    assert constant == (math.nextafter(5.0, -math.inf), 5.0)


# --- edges ---------------------------------------------------------------------------------


def test_a_constant_reference_separates_below_equal_and_above(engine: DuckDBEngine) -> None:
    reference = pd.DataFrame({"x": [5.0] * 600})
    same = measure(engine, reference, pd.DataFrame({"x": [5.0] * 600}))
    assert same["psi", "x", None].value == 0.0
    assert "constant reference column (5.0)" in (same["psi", "x", None].note or "")
    assert same["wasserstein", "x", None].value == 0.0
    for shifted in (4.0, 6.0):
        moved = measure(engine, reference, pd.DataFrame({"x": [shifted] * 600}))
        assert moved["psi", "x", None].value == pytest.approx(2 * (1 - 1e-4) * math.log(1e4))
        assert moved["ks", "x", None].value == 1.0
        assert moved["wasserstein", "x", None].value == pytest.approx(1.0)
        assert "column units" in (moved["wasserstein", "x", None].note or "")


def test_an_all_null_window_is_insufficient_with_no_value(engine: DuckDBEngine) -> None:
    reference = pd.DataFrame({"x": np.arange(600.0), "c": ["a", "b"] * 300})
    current = pd.DataFrame({"x": [None] * 600, "c": [None] * 600}).astype(
        {"x": "float64", "c": "object"}
    )
    found = measure(engine, reference, current, minimum_rows=500)
    for metric, column in (("psi", "x"), ("ks", "x"), ("psi", "c"), ("chi_square_pvalue", "c")):
        measurement = found[metric, column, None]
        assert measurement.value is None
        assert not measurement.sufficient
        assert "no usable value" in (measurement.note or "") or column == "c"
        assert measurement.details["current_unusable"] == 600
    policy = one_threshold_policy()
    assert policy.evaluate(found.values()).level is Level.INSUFFICIENT_DATA


def test_nan_and_infinities_are_left_out_and_counted(engine: DuckDBEngine) -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=900)
    reference = pd.DataFrame({"x": values})
    dirty = np.concatenate([values[:800], [np.nan] * 50, [np.inf] * 30, [-np.inf] * 20])
    found = measure(engine, reference, pd.DataFrame({"x": dirty}))
    psi_x = found["psi", "x", None]
    assert psi_x.current_rows == 800
    assert psi_x.details["current_unusable"] == 100
    assert "100 current rows NULL, NaN or infinite were left out" in (psi_x.note or "")
    ks = stats.ks_2samp(values, values[:800], method="asymp")
    assert found["ks", "x", None].value == pytest.approx(ks.statistic)


def test_unseen_categories_are_pooled_and_said(engine: DuckDBEngine) -> None:
    reference = pd.DataFrame({"plan": ["free"] * 400 + ["pro"] * 200})
    current = pd.DataFrame({"plan": ["free"] * 300 + ["pro"] * 200 + ["enterprise"] * 100})
    found = measure(engine, reference, current)
    psi_plan = found["psi", "plan", None]
    assert "100 current rows in 1 categories not kept by the reference" in (psi_plan.note or "")
    assert OTHER in (psi_plan.note or "")
    assert psi_plan.value == pytest.approx(statistics.psi([400, 200, 0], [300, 200, 100]))
    chi = stats.chi2_contingency(np.array([[400, 200, 0], [300, 200, 100]]), correction=False)
    assert found["chi_square_pvalue", "plan", None].value == pytest.approx(chi.pvalue)


def test_a_tiny_window_is_insufficient_and_states_the_no_drift_psi(engine: DuckDBEngine) -> None:
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"x": rng.normal(size=5000)})
    current = pd.DataFrame({"x": rng.normal(size=100)})
    psi_x = measure(engine, reference, current, minimum_rows=500)["psi", "x", None]
    assert not psi_x.sufficient
    assert psi_x.value is not None
    assert psi_x.expected_no_drift == pytest.approx((1 / 5000 + 1 / 100) * 9)
    assert psi_x.details["psi_no_drift_p95"] == pytest.approx(
        (1 / 5000 + 1 / 100) * stats.chi2.ppf(0.95, 9)
    )
    assert (psi_x.note or "").startswith("fewer than 500 usable rows on a side (5000 reference")
    assert one_threshold_policy().evaluate([psi_x]).level is Level.INSUFFICIENT_DATA


def test_checks_run_per_segment_and_name_it(engine: DuckDBEngine) -> None:
    rng = np.random.default_rng(2)
    reference = pd.DataFrame(
        {"plan": ["free"] * 1000 + ["pro"] * 1000, "usage": rng.normal(size=2000)}
    )
    usage = np.concatenate([rng.normal(size=1000), rng.normal(1.0, size=1000)])
    current = pd.DataFrame(
        {"plan": ["free"] * 1000 + ["pro"] * 1000 + ["team"] * 10, "usage": [*usage, *[0] * 10]}
    )
    found = measure(
        engine, reference, current, segment="plan", minimum_rows=500, metrics=frozenset({"psi"})
    )
    assert found["psi", "usage", "plan=free"].value < 0.1
    assert found["psi", "usage", "plan=pro"].value > 0.2
    team = found["psi", "usage", "plan=team"]
    assert team.value is None and not team.sufficient
    assert team.note == "segment absent from the reference profile"
    evaluation = one_threshold_policy().evaluate(found.values())
    critical = [c.measurement.segment for c in evaluation.at(Level.CRITICAL)]
    assert critical == [None, "plan=pro"]  # all rows, and the segment that moved


def test_a_column_missing_from_the_current_window_is_one_sentence(engine: DuckDBEngine) -> None:
    engine.register("reference", pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}))
    engine.register("current", pd.DataFrame({"x": [1.0, 2.0]}))
    profile = build_profile(engine, "reference")
    with pytest.raises(InvalidInput, match=r"^current.y: column is missing from the current data"):
        measure_data_drift(engine, "current", profile)


def test_an_all_null_reference_profiles_as_empty(engine: DuckDBEngine) -> None:
    engine.register("reference", pd.DataFrame({"x": [np.nan] * 10}))
    profile = build_profile(engine, "reference")
    column = profile.overall.columns["x"]
    assert isinstance(column, NumericProfile)
    assert (column.rows, column.usable, column.edges) == (10, 0, ())


# --- sample size: no false alarm, real shifts always caught -------------------------------


def one_threshold_policy() -> MonitoringPolicy:
    return MonitoringPolicy.churn_default().with_thresholds(
        [MonitoringPolicy.churn_default().thresholds[0]]
    )


def test_same_distribution_windows_at_the_minimum_size_rarely_warn(
    engine: DuckDBEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    """200 windows, 500 rows a side, one numeric and one categorical column: PSI >= 0.1
    (the churn warning) on at most 2 % of the checks. Expected: P(0.004·χ²(9) >= 0.1) ≈ 0.3 %."""
    rng = np.random.default_rng(2026)
    policy = one_threshold_policy()
    warnings = checks = 0
    psi_values = []
    for _ in range(200):
        frames = [
            pd.DataFrame(
                {
                    "x": rng.normal(size=500),
                    "plan": rng.choice(["free", "pro", "team"], 500, p=[0.6, 0.3, 0.1]),
                }
            )
            for _side in range(2)
        ]
        found = measure(engine, frames[0], frames[1], minimum_rows=500, metrics=frozenset({"psi"}))
        evaluation = policy.evaluate(found.values())
        checks += len(evaluation.checks)
        warnings += sum(1 for c in evaluation.checks if c.level is not Level.OK)
        psi_values.append(found["psi", "x", None].value)
    rate = warnings / checks
    with capsys.disabled():
        print(
            f"\nno-drift false alarm rate at 500 rows a side: {warnings}/{checks} = {rate:.2%}"
            f"; mean numeric PSI {np.mean(psi_values):.4f} (stated expectation 0.0360)"
        )
    assert rate <= 0.02
    assert np.mean(psi_values) == pytest.approx(0.036, rel=0.25)


def test_a_half_sigma_mean_shift_at_ten_thousand_rows_is_always_caught(
    engine: DuckDBEngine,
) -> None:
    rng = np.random.default_rng(99)
    policy = one_threshold_policy()
    for _ in range(20):
        reference = pd.DataFrame({"x": rng.normal(size=10_000)})
        current = pd.DataFrame({"x": rng.normal(0.5, 1.0, size=10_000)})
        found = measure(engine, reference, current, metrics=frozenset({"psi", "ks_pvalue"}))
        assert policy.evaluate(found.values()).level in (Level.WARNING, Level.CRITICAL)
        assert found["ks_pvalue", "x", None].value < 1e-6


def test_scoped_thresholds_grade_prediction_drift_on_the_score_column(
    engine: DuckDBEngine,
) -> None:
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"score": rng.beta(2, 5, 2000), "x": rng.normal(size=2000)})
    current = pd.DataFrame({"score": rng.beta(3, 4, 2000), "x": rng.normal(size=2000)})
    found = measure(engine, reference, current, metrics=frozenset({"jensen_shannon"}))
    base = MonitoringPolicy.churn_default().thresholds[0]
    prediction = Threshold(
        base.drift_type.CONCEPT,
        "jensen_shannon",
        0.05,
        0.1,
        base.warning_actions,
        base.critical_actions,
        feature="score",
    )
    policy = MonitoringPolicy("churn", (prediction,), Reporting(("a@b.c",)))
    [check] = policy.evaluate(found.values()).checks
    assert check.measurement.feature == "score"
    assert check.level is Level.CRITICAL
