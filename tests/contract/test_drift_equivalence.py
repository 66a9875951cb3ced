"""The drift statistics give the same values on DuckDB and on Spark: a reference profile
built on each engine, then every data-drift measurement of a shifted window, overall and per
segment: sampled and exact reference ECDFs, unusable values, categories with NULLs. Each step
reads all its columns in one stacked query (`lucid.engines.drift_sql`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lucid.contracts.validity import MonitoringPolicy
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from lucid.monitoring.drift import measure_data_drift
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import measure_window


def window(rows: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "activity": rng.normal(0.4 + shift, 0.2, rows),
            "spend": rng.lognormal(3 + shift, 0.5, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.5, 0.3, 0.2]),
            # few distinct values: the reference ECDF is exact (value counts)
            "visits": rng.poisson(3 + 10 * shift, rows),
            # unusable values (NaN, inf, NULL) left out on both engines
            "tenure": np.where(
                rng.random(rows) < 0.05, np.nan, rng.exponential(12 + 20 * shift, rows)
            ),
            "region": rng.choice(["eu", "us", None], rows, p=[0.6, 0.35, 0.05]),
        }
    )


def test_drift_measurements_agree(tmp_path: Path, spark: Any) -> None:
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    window(5_000, 0.0, 1).to_parquet(reference)
    window(4_000, 0.15, 2).to_parquet(current)
    policy = MonitoringPolicy.churn_default("churn")
    measured = {}
    engines: dict[str, Any] = {
        "duckdb": DuckDBEngine(tmp_path),
        "spark": SparkEngine(tmp_path, spark),
    }
    for name, engine in engines.items():
        engine.register("reference", reference)
        engine.register("current", current)
        profile = build_profile(engine, "reference", segment_column="plan")
        measured[name] = {
            (m.metric, m.feature, m.segment): m.value
            for m in measure_window(engine, "current", profile, policy)
            + measure_data_drift(engine, "current", profile)  # every statistic, not just PSI
        }
    engines["duckdb"].close()
    assert measured["duckdb"].keys() == measured["spark"].keys()
    assert len(measured["duckdb"]) >= 80
    assert {metric for metric, _, _ in measured["duckdb"]} >= {"ks", "wasserstein", "psi"}
    for key, value in measured["duckdb"].items():
        if value is None:
            assert measured["spark"][key] is None, key
        else:
            assert measured["spark"][key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert any(value and value > 0.1 for value in measured["duckdb"].values())
