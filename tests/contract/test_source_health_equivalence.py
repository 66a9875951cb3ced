"""A source's health measurements agree on DuckDB and on Spark (`lucid.engines.source_sql`):
the same window and trailing counts, newest event, NULL shares, ingestion lag and schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from lucid.monitoring.source_health import measure_source
from tests.unit.test_source_health import day, events, source


def test_source_health_agrees_on_duckdb_and_spark(tmp_path: Path, spark: Any) -> None:
    frame = events()
    start, end = (t.replace(tzinfo=None) for t in day(50))
    in_day = frame.event_time.between(start, end, inclusive="left")
    frame.loc[frame.index[in_day][:100], "device"] = None
    frame.loc[frame.index[in_day][100:120], "amount"] = np.inf
    frame = frame[~(in_day & (frame.index % 3 == 0))]  # a third of the day lost
    src = source(tmp_path, frame.drop(columns=["customer_id"]).assign(plan="pro"))
    measured = {}
    for name, engine in (
        ("duckdb", DuckDBEngine(tmp_path)),
        ("spark", SparkEngine(tmp_path, spark)),
    ):
        measured[name] = {
            (m.metric, m.feature): (m.value, dict(m.details))
            for m in measure_source(engine, src, day(50), 100)
        }
        engine.close()
    duckdb, on_spark = measured["duckdb"], measured["spark"]
    assert duckdb.keys() == on_spark.keys()
    for key, (value, details) in duckdb.items():
        assert on_spark[key][0] == pytest.approx(value, rel=1e-9), key
        assert on_spark[key][1] == details, key
    volume = duckdb["source_volume_ratio", "source:activity"]
    assert volume[1]["window_rows"] == 400 and volume[1]["expected_rows"] == 600
    assert duckdb["schema_changes", "source:activity"][1]["removed"] == "customer_id"
    assert duckdb["source_null_share", "source:activity.amount"][0] > 0
