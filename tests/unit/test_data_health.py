"""Data-health checks on DuckDB: the measured shares and volume against hand counts, and the
grades the default health thresholds give them (no change ok; NULLs 0 -> 30 %, an empty
window, a new category at 5 % flagged)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lucid.contracts.validity import (
    CategoricalProfile,
    Level,
    MonitoringPolicy,
    Reporting,
    Threshold,
)
from lucid.contracts.validity.health import (
    ColumnHealth,
    column_measurements,
    default_health_thresholds,
    volume_measurement,
)
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.monitoring.health import measure_health
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import measure_window

COLUMNS = {"activity": "numeric", "plan": "categorical"}


def window(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "activity": rng.normal(0.4, 0.2, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.5, 0.3, 0.2]),
        }
    )


def policy() -> MonitoringPolicy:
    return MonitoringPolicy(
        "churn", default_health_thresholds(COLUMNS), Reporting(("data_team@example.org",))
    )


def grades(engine: DuckDBEngine, frame: pd.DataFrame, tmp_path: Path) -> dict[str, Level]:
    """Every health check of `frame` against the 5,000-row reference: key -> level."""
    path = tmp_path / "current.parquet"
    frame.to_parquet(path)
    engine.register("current", path)
    profile = build_profile(engine, "reference")
    evaluation = policy().evaluate(measure_window(engine, "current", profile, policy()))
    return {check.threshold.key: check.level for check in evaluation.checks}


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    engine = DuckDBEngine(tmp_path)
    window(5_000, 1).to_parquet(tmp_path / "reference.parquet")
    engine.register("reference", tmp_path / "reference.parquet")
    return engine


def test_no_change_is_ok(engine: DuckDBEngine, tmp_path: Path) -> None:
    found = grades(engine, window(5_000, 2), tmp_path)
    assert len(found) == 1 + 2 + 1 + 2  # volume; NULL-share rises; range; categories x2
    assert set(found.values()) == {Level.OK}, found


def test_null_share_rising_to_30_percent_is_critical(engine: DuckDBEngine, tmp_path: Path) -> None:
    frame = window(5_000, 2)
    frame.loc[:1_499, "activity"] = np.nan  # 30 %
    frame["plan"] = frame["plan"].astype(object)
    frame.loc[4_000:, "plan"] = None  # 20 %
    found = grades(engine, frame, tmp_path)
    assert found["null_share_rise[activity]"] is Level.CRITICAL
    assert found["null_share_rise[plan]"] is Level.CRITICAL
    assert found["volume_ratio"] is Level.OK
    profile = build_profile(engine, "reference")
    shares = {
        (m.metric, m.feature): m.value
        for m in measure_health(engine, "current", profile, metrics={"null_share"})
    }
    assert shares == {("null_share", "activity"): 0.3, ("null_share", "plan"): 0.2}


def test_empty_window_makes_volume_critical(engine: DuckDBEngine, tmp_path: Path) -> None:
    found = grades(engine, window(5_000, 2).iloc[:0], tmp_path)
    assert found["volume_ratio"] is Level.CRITICAL
    assert found["null_share_rise[activity]"] is (Level.INSUFFICIENT_DATA)


def test_half_the_volume_warns_and_duration_scales_it(engine: DuckDBEngine, tmp_path: Path) -> None:
    frame = window(2_000, 2)
    assert grades(engine, frame, tmp_path)["volume_ratio"] is Level.WARNING
    profile = build_profile(engine, "reference")
    [volume] = measure_health(
        engine, "current", profile, metrics={"volume_ratio"}, duration_ratio=0.4
    )
    assert volume.value == pytest.approx(1.0)


def test_new_category_at_5_percent_is_flagged(engine: DuckDBEngine, tmp_path: Path) -> None:
    frame = window(5_000, 2)
    frame.loc[:249, "plan"] = "enterprise"  # 5 %
    found = grades(engine, frame, tmp_path)
    assert found["new_category_share[plan]"] is Level.CRITICAL
    assert found["vanished_category_share[plan]"] is Level.OK


def test_vanished_category_and_values_out_of_range(engine: DuckDBEngine, tmp_path: Path) -> None:
    frame = window(5_000, 2)
    frame["plan"] = frame["plan"].replace("team", "basic")  # team (20 % of the reference) gone
    frame.loc[:99, "activity"] = 50.0  # 2 % far above the reference maximum
    found = grades(engine, frame, tmp_path)
    assert found["vanished_category_share[plan]"] is Level.CRITICAL
    assert found["out_of_range_share[activity]"] is Level.WARNING
    profile = build_profile(engine, "reference")
    measured = {
        m.metric: m for m in measure_health(engine, "current", profile) if m.feature != "plan"
    }
    assert measured["out_of_range_share"].value == pytest.approx(0.02, abs=0.001)


def test_a_volume_threshold_of_the_wrong_sign_is_refused() -> None:
    raw = {
        "drift_type": "data",
        "metric": "volume_ratio",
        "warning": 0.2,
        "critical": 0.5,
        "warning_action": "alert_data_team",
        "critical_action": "alert_data_team",
    }
    with pytest.raises(InvalidInput, match="must be above critical for volume_ratio") as error:
        MonitoringPolicy.from_mapping(
            {"model": "churn", "thresholds": [raw], "reporting": {"stakeholders": ["a@b.org"]}}
        )
    assert error.value.field == "thresholds[0].warning"


def test_a_null_share_threshold_of_zero_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"null_share threshold must be > 0 and ≤ 1, not 0"):
        Threshold.from_mapping(
            {
                "drift_type": "data",
                "metric": "null_share",
                "warning": 0,
                "critical": 0.2,
                "warning_action": "alert_data_team",
                "critical_action": "alert_data_team",
            }
        )


def test_volume_without_a_known_duration_says_so() -> None:
    volume = volume_measurement(1_000, 250)
    assert volume.value == 0.25
    assert volume.note is not None and "duration is unknown" in volume.note
    assert volume_measurement(1_000, 250, duration_ratio=0.25).value == 1.0
    empty_reference = volume_measurement(0, 10)
    assert empty_reference.value is None and not empty_reference.sufficient


def test_a_pooled_reference_category_counts_as_new_and_says_so() -> None:
    reference = CategoricalProfile(rows=1_000, usable=1_000, categories={"a": 900}, other=100)
    health = ColumnHealth(missing=0, outside=50, named={"a": 0})
    found = {m.metric: m for m in column_measurements("plan", reference, 1_000, health, 500)}
    assert found["new_category_share"].value == 0.05
    assert "100 reference rows in rare categories" in (found["new_category_share"].note or "")
    assert found["vanished_category_share"].value == 0.9
    assert found["vanished_category_share"].details["vanished"] == "a"


def test_default_thresholds_without_columns_watch_every_column() -> None:
    thresholds = default_health_thresholds()
    assert [t.key for t in thresholds] == [
        "null_share_rise",
        "volume_ratio",
        "out_of_range_share",
        "new_category_share",
        "vanished_category_share",
    ]
