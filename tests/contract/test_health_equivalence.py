"""The data-health measurements give the same values on DuckDB and on Spark: one window with
NULLs, NaN and ±inf, values out of the reference's range, a new category, a vanished one and
a category whose name needs quoting (`lucid.engines.drift_sql.health_counts`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from lucid.monitoring.health import measure_health
from lucid.monitoring.profiles import build_profile


def frame(rows: int, seed: int, *, current: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    activity = rng.normal(0.4, 0.2, rows)
    plans = ["basic", "pro", "o'team"] if not current else ["basic", "pro", "enterprise"]
    plan = rng.choice(plans, rows).astype(object)
    if current:
        activity[:30] = np.nan
        activity[30:35] = np.inf
        activity[35:60] = 9.0  # above the reference maximum
        plan[:40] = None
    return pd.DataFrame({"activity": activity, "plan": plan})


def test_health_measurements_agree(tmp_path: Path, spark: Any) -> None:
    frame(600, 1, current=False).to_parquet(tmp_path / "reference.parquet")
    frame(400, 2, current=True).to_parquet(tmp_path / "current.parquet")
    engines: dict[str, Any] = {
        "duckdb": DuckDBEngine(tmp_path),
        "spark": SparkEngine(tmp_path, spark),
    }
    measured = {}
    for name, engine in engines.items():
        engine.register("reference", tmp_path / "reference.parquet")
        engine.register("current", tmp_path / "current.parquet")
        profile = build_profile(engine, "reference")
        measured[name] = {
            (m.metric, m.feature): m.value
            for m in measure_health(engine, "current", profile, minimum_rows=100)
        }
    engines["duckdb"].close()
    duckdb = measured["duckdb"]
    assert duckdb.keys() == measured["spark"].keys()
    assert len(duckdb) == 8  # volume; activity: NULLs x2, range; plan: NULLs x2, categories x2
    for key, value in duckdb.items():
        assert measured["spark"][key] == pytest.approx(value, rel=1e-12), key
    assert duckdb["null_share", "activity"] == pytest.approx(35 / 400)
    assert duckdb["null_share", "plan"] == pytest.approx(40 / 400)
    assert duckdb["out_of_range_share", "activity"] == pytest.approx(25 / 365)
    assert duckdb["new_category_share", "plan"] > 0.2
    assert duckdb["vanished_category_share", "plan"] > 0.2
    assert duckdb["volume_ratio", None] == pytest.approx(400 / 600)
