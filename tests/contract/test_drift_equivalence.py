"""The drift statistics give the same values on DuckDB and on Spark, within the tolerance
`docs/validity.md` states for Spark's quantile sketches: a reference profile built on each
engine, then every data-drift measurement of a shifted window, overall and per segment:
sampled and exact reference ECDFs, unusable values, categories with NULLs. Each step reads
all its columns in one query (`lucid.engines.drift_sql`); DuckDB sorts, Spark sketches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lucid.contracts.validity import MonitoringPolicy
from lucid.engines.dialects import SPARK
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.quantile_sketches import QUANTILE_GRID, sketch_rank_error
from lucid.engines.spark import SparkEngine
from lucid.monitoring.drift import measure_data_drift
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import measure_window

Key = tuple[str, str | None, str | None]


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


def measure_both(
    tmp_path: Path, spark: Any, reference_rows: int, current_rows: int
) -> tuple[dict[str, dict[Key, float | None]], dict[str, list[tuple[Key, str]]], Any]:
    """Every measurement and every check's level, per engine, on the same two files."""
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    base, shifted = window(reference_rows, 0.0, 1), window(current_rows, 0.15, 2)
    base.to_parquet(reference)
    shifted.to_parquet(current)
    policy = MonitoringPolicy.churn_default("churn")
    measured, levels = {}, {}
    engines: dict[str, Any] = {
        "duckdb": DuckDBEngine(tmp_path),
        "spark": SparkEngine(tmp_path, spark),
    }
    for name, engine in engines.items():
        engine.register("reference", reference)
        engine.register("current", current)
        profile = build_profile(engine, "reference", segment_column="plan", multivariate=False)
        found = measure_window(engine, "current", profile, policy) + measure_data_drift(
            engine, "current", profile
        )  # every statistic, not just PSI
        measured[name] = {(m.metric, m.feature, m.segment): m.value for m in found}
        levels[name] = [
            ((c.measurement.metric, c.measurement.feature, c.measurement.segment), c.level.value)
            for c in policy.evaluate(found).checks
        ]
    engines["duckdb"].close()
    assert measured["duckdb"].keys() == measured["spark"].keys()
    return measured, levels, (base, shifted)


def spread(frames: tuple[pd.DataFrame, pd.DataFrame], key: Key) -> float:
    """The range of the key's column on both sides over its reference standard deviation
    (Wasserstein-1 is reported in reference standard deviations), in the key's segment."""
    _, column, segment = key
    found = []
    for frame in frames:
        if segment is not None:
            frame = frame[frame["plan"] == segment.split("=", 1)[1]]
        found.append(frame[str(column)].replace([np.inf, -np.inf], np.nan).dropna())
    both = pd.concat(found)
    return float(both.max() - both.min()) / float(found[0].std(ddof=0)) * 1.0001


def test_below_the_sketch_size_only_the_ecdf_distances_differ_by_the_grid(
    tmp_path: Path, spark: Any
) -> None:
    """Fewer values than the sketch holds: Spark's quantiles are DuckDB's exact ones, so every
    bin statistic is equal; KS D and Wasserstein-1 read the current side at `QUANTILE_GRID`
    ranks, off by at most 1/(2G) (and that times the range)."""
    measured, levels, frames = measure_both(tmp_path, spark, 5_000, 4_000)
    assert len(measured["duckdb"]) >= 80
    assert {metric for metric, _, _ in measured["duckdb"]} >= {"ks", "wasserstein", "psi"}
    grid = 0.5 / QUANTILE_GRID
    for key, value in measured["duckdb"].items():
        found = measured["spark"][key]
        if value is None:
            assert found is None, key
        elif key[0] in ("ks", "wasserstein"):
            scale = 1.0 if key[0] == "ks" else spread(frames, key)
            assert abs(found - value) <= grid * scale + 1e-12, (key, found, value)
        elif key[0] != "ks_pvalue":  # a p-value of a D off by 1/(2G), compared by the level
            assert found == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert levels["duckdb"] == levels["spark"]
    assert any(value and value > 0.1 for value in measured["duckdb"].values())


def test_beyond_the_sketch_size_values_agree_within_the_stated_tolerance(
    tmp_path: Path, spark: Any
) -> None:
    """More values than the sketch holds (its ranks are approximate): KS D within 2ε + 1/G,
    Wasserstein-1 within that times the range, PSI and Jensen-Shannon within 2 % or 1e-3
    (p-values compared by level), and the same level for every check."""
    measured, levels, frames = measure_both(tmp_path, spark, 60_000, 50_000)
    assert SPARK.sketch_k is not None and 4 * SPARK.sketch_k < 50_000
    rank = 2 * sketch_rank_error(SPARK.sketch_k) + 1 / QUANTILE_GRID
    differed = 0
    for key, value in measured["duckdb"].items():
        found = measured["spark"][key]
        if value is None:
            assert found is None, key
            continue
        assert found is not None, key
        differed += found != value
        if key[0] == "ks":
            assert abs(found - value) <= rank, (key, found, value)
        elif key[0] == "wasserstein":
            assert abs(found - value) <= rank * spread(frames, key), (key, found, value)
        elif key[0] in ("psi", "jensen_shannon"):
            assert found == pytest.approx(value, rel=0.02, abs=1e-3), (key, found, value)
        elif not key[0].endswith("pvalue"):  # health: no quantile involved
            assert found == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert differed  # the sketch's ranks really were approximate
    assert levels["duckdb"] == levels["spark"]
