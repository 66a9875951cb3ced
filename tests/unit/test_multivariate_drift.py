"""Multivariate drift on DuckDB: windows of the reference's own distribution grade ok; a
correlation whose sign flips — every marginal unchanged, so PSI stays ok — is flagged by the
reconstruction error and the domain classifier; a 1,000,000-row window is read in batches;
thresholds on the wrong side are refused with a sentence."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lucid.contracts.validity import (
    SEED_ACTIONS,
    DriftType,
    Level,
    MonitoringPolicy,
    Reporting,
    Threshold,
)
from lucid.contracts.validity.multivariate import SAMPLE_ROWS, components_kept
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.monitoring.multivariate import measure_multivariate
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.row_samples import position_keys
from lucid.monitoring.runs import measure_window

RHO = 0.7


def window(rows: int, seed: int, rho: float = RHO) -> pd.DataFrame:
    """Two features correlated by `rho` (standard normal marginals whatever its sign), a
    skewed one, a count and a category."""
    rng = np.random.default_rng(seed)
    first = rng.standard_normal(rows)
    second = rho * first + math.sqrt(1 - rho**2) * rng.standard_normal(rows)
    return pd.DataFrame(
        {
            "activity": 0.4 + 0.2 * first,
            "spend": 30.0 + 8.0 * second,
            "tenure": rng.lognormal(2.5, 0.6, rows),
            "visits": rng.poisson(3, rows).astype(float),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.5, 0.3, 0.2]),
            "score": rng.random(rows),
        }
    )


def threshold(metric: str, warning: float, critical: float) -> Threshold:
    return Threshold(
        DriftType.DATA,
        metric,
        warning,
        critical,
        SEED_ACTIONS["alert_data_team"],
        SEED_ACTIONS["trigger_retraining_pipeline"],
    )


POLICY = MonitoringPolicy(
    "churn",
    (
        threshold("psi", 0.1, 0.2),
        threshold("reconstruction_error_rise", 0.1, 0.3),
        threshold("domain_classifier_auc", 0.6, 0.7),
    ),
    Reporting(("data_team@example.org",)),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    folder = tmp_path_factory.mktemp("multivariate")
    window(20_000, 1).to_parquet(folder / "reference.parquet")
    with DuckDBEngine(folder) as engine:
        engine.register("reference", folder / "reference.parquet")
        yield engine


@pytest.fixture(scope="module")
def profile(engine: DuckDBEngine) -> ReferenceProfile:
    return build_profile(engine, "reference", score="score")


def graded(engine: DuckDBEngine, profile: ReferenceProfile, frame: pd.DataFrame) -> dict:
    engine.register("current", pa.Table.from_pandas(frame))
    evaluation = POLICY.evaluate(measure_window(engine, "current", profile, POLICY))
    return {
        (check.measurement.metric, check.measurement.feature): check for check in evaluation.checks
    }


def test_the_profile_keeps_the_pca_the_reference_error_and_a_bounded_sample(
    profile: ReferenceProfile,
) -> None:
    part = profile.multivariate
    assert part is not None and part.reconstruction is not None
    pca = part.reconstruction
    assert pca.columns == ("activity", "spend", "tenure", "visits")  # numeric, not the score
    assert sum(pca.explained[:-1]) < 0.65 <= sum(pca.explained)  # the fewest reaching 65 %
    assert components_kept([0.5, 0.3, 0.2]) == 2 and components_kept([0.5, 0.5]) == 1
    weights = np.asarray(pca.components)
    assert weights @ weights.T == pytest.approx(np.eye(len(weights)), abs=1e-9)
    assert pca.fit_rows == pca.error_rows == 10_000  # half fit, half measure, out of sample
    assert pca.error_std > 0 and pca.error_mean > 0
    assert part.sample.rows == SAMPLE_ROWS
    assert set(part.sample.kinds) == {"activity", "spend", "tenure", "visits", "plan"}
    assert all(isinstance(v, str) for v in part.sample.values["plan"])
    spend = part.sample.values["spend"]  # sd 8: kept to 1e-6, a millionth of the sd or less
    assert all(isinstance(v, float) and v == round(v, 6) for v in spend)
    assert len({round(v, 3) for v in spend if isinstance(v, float)}) > 1_900  # still distinct


def test_the_profile_does_not_depend_on_how_the_reference_is_batched(
    engine: DuckDBEngine, profile: ReferenceProfile
) -> None:
    from lucid.monitoring.multivariate import profile_multivariate

    features = {c: p for c, p in profile.overall.columns.items() if c != "score"}
    assert profile_multivariate(engine, "reference", features, chunk_rows=777) == (
        profile.multivariate
    )
    assert build_profile(engine, "reference", score="score") == profile
    keys = position_keys(0, 100_000, 21)
    assert np.array_equal(np.concatenate([position_keys(0, 300, 21), keys[300:]]), keys[:])
    assert 0.49 < keys.mean() < 0.51 and keys.min() >= 0 and keys.max() < 1


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_windows_of_the_reference_distribution_grade_ok(
    engine: DuckDBEngine, profile: ReferenceProfile, seed: int
) -> None:
    checks = graded(engine, profile, window(5_000, seed))
    assert {check.level for check in checks.values()} == {Level.OK}, checks
    for metric in ("reconstruction_error_rise", "domain_classifier_auc"):
        measured = checks[(metric, None)].measurement
        assert measured.pvalue is not None and measured.pvalue > 0.001, measured
        assert measured.current_rows == 5_000


def test_a_correlation_sign_flip_is_flagged_by_both_multivariate_metrics_and_not_by_psi(
    engine: DuckDBEngine, profile: ReferenceProfile
) -> None:
    """Why the metrics exist: every column keeps its distribution, only how two of them move
    together changes."""
    checks = graded(engine, profile, window(5_000, 2, rho=-RHO))
    psi = {key: check.level for key, check in checks.items() if key[0] == "psi"}
    assert len(psi) == 6 and set(psi.values()) == {Level.OK}, psi
    rise = checks[("reconstruction_error_rise", None)]
    auc = checks[("domain_classifier_auc", None)]
    assert rise.level is Level.CRITICAL and auc.level is Level.CRITICAL
    assert rise.measurement.value is not None and rise.measurement.value > 0.3
    assert rise.measurement.pvalue is not None and rise.measurement.pvalue < 1e-12
    assert auc.measurement.value is not None and auc.measurement.value > 0.7
    assert auc.measurement.pvalue is not None and auc.measurement.pvalue < 1e-12
    named = [item["feature"] for item in auc.measurement.details["features"]]
    assert set(named[:2]) == {"activity", "spend"}, named
    details = rise.measurement.details
    assert details["components"] >= 1 and details["explained_variance"] >= 0.65
    assert details["reference_error_rows"] == 10_000
    assert 0 < details["no_drift_rise_p99"] < 0.1  # the rise no drift exceeds 1 % of the time


def test_a_million_row_window_is_read_in_batches(
    engine: DuckDBEngine, profile: ReferenceProfile, tmp_path: Path
) -> None:
    path = tmp_path / "million.parquet"
    with pq.ParquetWriter(path, pa.Schema.from_pandas(window(10, 0), preserve_index=False)) as out:
        for part in range(10):
            frame = window(100_000, 100 + part)
            out.write_table(pa.Table.from_pandas(frame, preserve_index=False))
    engine.register("million", path)
    found = {
        m.metric: m
        for m in measure_multivariate(engine, "million", profile, chunk_rows=50_000, explain=False)
    }
    rise = found["reconstruction_error_rise"]
    assert rise.current_rows == 1_000_000 and rise.sufficient
    assert rise.details["chunks"] == 20 and rise.details["largest_chunk_rows"] == 50_000
    assert abs(rise.value or 0) < rise.details["no_drift_rise_p99"] * 3
    auc = found["domain_classifier_auc"]
    assert auc.current_rows == 1_000_000
    assert auc.details["current_sample_rows"] == SAMPLE_ROWS  # the classifier's bound


def test_unusable_values_are_imputed_and_counted(
    engine: DuckDBEngine, profile: ReferenceProfile
) -> None:
    frame = window(2_000, 5)
    frame.loc[:199, "tenure"] = np.nan
    frame.loc[200:209, "activity"] = np.inf
    engine.register("current", pa.Table.from_pandas(frame))
    found = {m.metric: m for m in measure_multivariate(engine, "current", profile)}
    rise = found["reconstruction_error_rise"]
    assert rise.details["imputed_values"] == 210
    assert rise.note == "210 unusable current values imputed by the reference mean"
    assert found["domain_classifier_auc"].value is not None


def test_a_small_window_is_insufficient(engine: DuckDBEngine, profile: ReferenceProfile) -> None:
    checks = graded(engine, profile, window(300, 6, rho=-RHO))
    for metric in ("reconstruction_error_rise", "domain_classifier_auc"):
        check = checks[(metric, None)]
        assert check.level is Level.INSUFFICIENT_DATA
        assert check.measurement.note is not None and "fewer than 500" in check.measurement.note


def test_a_profile_without_the_multivariate_part_reports_insufficient_data(
    engine: DuckDBEngine, profile: ReferenceProfile
) -> None:
    without = replace(profile, multivariate=None)
    assert "multivariate" not in without.to_dict()
    assert ReferenceProfile.from_dict(without.to_dict()) == without
    assert build_profile(engine, "reference", score="score", multivariate=False) == without
    checks = graded(engine, without, window(5_000, 2))
    for metric in ("reconstruction_error_rise", "domain_classifier_auc"):
        check = checks[(metric, None)]
        assert check.level is Level.INSUFFICIENT_DATA
        assert check.measurement.note == (
            "the reference profile has no multivariate part; build the profile again"
        )


def test_one_numeric_feature_has_no_reconstruction_but_a_classifier(
    engine: DuckDBEngine,
) -> None:
    frame = window(3_000, 7)[["activity", "plan"]]
    engine.register("narrow", pa.Table.from_pandas(frame))
    narrow = build_profile(engine, "narrow")
    assert narrow.multivariate is not None and narrow.multivariate.reconstruction is None
    engine.register("current", pa.Table.from_pandas(window(3_000, 8)[["activity", "plan"]]))
    found = {m.metric: m for m in measure_multivariate(engine, "current", narrow)}
    assert found["reconstruction_error_rise"].note == (
        "1 numeric feature varies in the reference; the PCA needs 2"
    )
    assert not found["reconstruction_error_rise"].sufficient
    assert found["domain_classifier_auc"].value is not None


def test_features_reconstructed_exactly_have_no_reconstruction_error_to_compare(
    engine: DuckDBEngine,
) -> None:
    frame = window(3_000, 11)[["activity", "plan"]]
    frame["doubled"] = 2 * frame["activity"] + 1
    engine.register("collinear", pa.Table.from_pandas(frame))
    collinear = build_profile(engine, "collinear")
    assert collinear.multivariate is not None
    assert collinear.multivariate.reconstruction is None
    assert collinear.multivariate.note == (
        "the reference's numeric features lie exactly on 1 component"
    )


def test_a_window_missing_a_profiled_column_is_refused(
    engine: DuckDBEngine, profile: ReferenceProfile
) -> None:
    engine.register("current", pa.Table.from_pandas(window(1_000, 9).drop(columns=["tenure"])))
    with pytest.raises(InvalidInput, match=r"current\.tenure: column is missing from the current"):
        measure_multivariate(engine, "current", profile)


@pytest.mark.parametrize(
    ("metric", "warning", "critical", "message"),
    [
        (
            "domain_classifier_auc",
            0.4,
            0.7,
            "warning: a domain_classifier_auc threshold must be > 0.5 and ≤ 1, not 0.4",
        ),
        (
            "domain_classifier_auc",
            0.6,
            1.2,
            "critical: a domain_classifier_auc threshold must be > 0.5 and ≤ 1, not 1.2",
        ),
        (
            "reconstruction_error_rise",
            0.0,
            0.3,
            "warning: a reconstruction_error_rise threshold must be > 0, not 0",
        ),
        (
            "reconstruction_error_rise",
            0.3,
            0.1,
            "warning: must be below critical for reconstruction_error_rise, where higher is "
            "worse (got warning 0.3, critical 0.1)",
        ),
    ],
)
def test_a_threshold_on_the_wrong_side_is_refused(
    metric: str, warning: float, critical: float, message: str
) -> None:
    raw = {
        "model": "churn",
        "thresholds": [
            {
                "drift_type": "data",
                "metric": metric,
                "warning": warning,
                "critical": critical,
                "warning_action": ["alert_data_team"],
                "critical_action": ["trigger_retraining_pipeline"],
            }
        ],
        "reporting": {"stakeholders": ["data_team@example.org"]},
    }
    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy.from_mapping(raw)
    assert str(refused.value) == f"thresholds[0].{message}"


def test_a_drill_grades_the_multivariate_checks_of_the_shifted_copy(
    engine: DuckDBEngine, profile: ReferenceProfile
) -> None:
    from lucid.monitoring import drills

    table = pa.Table.from_pandas(window(3_000, 10), preserve_index=False)
    shifted = drills.shifted(table, profile, [drills.Shift.parse("activity=+1sd")])
    engine.register("drill_window", shifted)
    evaluation = drills.grade(engine, "drill_window", profile, POLICY, False, None)
    levels = {
        c.measurement.metric: c.level for c in evaluation.checks if c.measurement.feature is None
    }
    # off the reference's main directions: the error rises (0.1 to 0.3 here), and the classifier
    # tells the shifted rows apart
    assert levels == {
        "reconstruction_error_rise": Level.WARNING,
        "domain_classifier_auc": Level.CRITICAL,
    }
