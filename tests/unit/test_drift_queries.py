"""The drift SQL is generated in one place and renders for Spark through sqlglot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
import sqlglot

from lucid.engines import drift_sql as queries
from lucid.engines.dialects import to_dialect
from lucid.engines.drift_sql import DUCKDB, SPARK, Dialect
from lucid.engines.duckdb import DuckDBEngine

Builder = Callable[[Dialect], str]

BUILDERS: dict[str, Builder] = {
    "segment_values": lambda d: queries.segment_values(d, "t", "plan"),
    "numeric_summaries": lambda d: queries.numeric_summaries(
        d, "t", ["x", "s"], queries.segment_filter(d, "plan", "pro")
    ),
    "ranked_values": lambda d: queries.ranked_values(d, "t", [("x", [0, 5, 150]), ("s", [3])]),
    "ranked_values_one_column": lambda d: queries.ranked_values(d, "t", [("x", [0, 7])]),
    "value_counts": lambda d: queries.value_counts(d, "t", ["x", "s"]),
    "bin_counts": lambda d: queries.bin_counts(d, "t", [("x", [-0.5, 0.0, 0.5]), ("s", [])]),
    "category_counts": lambda d: queries.category_counts(d, "t", ["plan", "y"]),
    "ecdf_distances": lambda d: queries.ecdf_distances(
        d, "t", [("x", [(-1.0, 5.0), (1.0, 5.0)]), ("s", [(0.5, 1.0)])]
    ),
    "classification_counts": lambda d: queries.classification_counts(d, "t", "y", "s", 0.5),
    "expected_accuracy": lambda d: queries.expected_accuracy(d, "t", "s", 0.5),
    "auc": lambda d: queries.auc(d, "t", "s", "y"),
    "auc_estimated": lambda d: queries.auc(d, "t", "s", None),
    "health_counts": lambda d: queries.health_counts(
        d, "t", [("x", -1.0, 1.0), ("s", None, None)], [("plan", ["free", "o'pro"]), ("y", [])]
    ),
}


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    x[:6] = [np.nan, np.inf, -np.inf, np.nan, 0.0, 0.5]
    frame = pd.DataFrame(
        {
            "x": x,
            "plan": rng.choice(["free", "pro"], 200),
            "s": rng.random(200).round(2),
            "y": rng.integers(0, 2, 200),
        }
    )
    frame.loc[frame.index[:3], "plan"] = None
    with DuckDBEngine() as duck:
        duck.register("t", frame)
        yield duck


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_query_renders_as_spark_sql_without_duckdb_only_syntax(name: str) -> None:
    spark = to_dialect(BUILDERS[name](SPARK), SPARK.name)
    sqlglot.parse_one(spark, read="spark")
    for duckdb_only in ("ISFINITE", "QUANTILE_CONT", "PERCENTILE_CONT", "//", '"', "VARCHAR"):
        assert duckdb_only not in spark.upper(), (duckdb_only, spark)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_transpiler_reads_every_query_faithfully(engine: DuckDBEngine, name: str) -> None:
    """DuckDB text → sqlglot → DuckDB text gives the same rows: the parse the Spark rendering
    starts from loses nothing."""
    sql = BUILDERS[name](DUCKDB)
    [round_trip] = sqlglot.transpile(sql, read="duckdb", write="duckdb")
    assert sorted(engine.query(round_trip), key=repr) == sorted(engine.query(sql), key=repr)


@pytest.mark.parametrize(
    "name", ["bin_counts", "numeric_summaries", "ecdf_distances", "auc", "health_counts"]
)
def test_sparks_usable_number_rule_means_the_same_as_duckdbs(
    engine: DuckDBEngine, name: str
) -> None:
    """Spark's pieces (isnan, abs, 'Infinity') also run on DuckDB: same NULL/NaN/inf rule."""
    assert sorted(engine.query(BUILDERS[name](SPARK)), key=repr) == sorted(
        engine.query(BUILDERS[name](DUCKDB)), key=repr
    )


def test_duckdb_text_is_used_as_written() -> None:
    sql = BUILDERS["auc"](DUCKDB)
    assert to_dialect(sql, DUCKDB.name) is sql


def test_ranks_are_64_bit_on_spark() -> None:
    """Spark's row_number() is a 32-bit INT: k * points overflowed at 10 M rows (found by
    bench/scale.py); the rank is cast to BIGINT."""
    spark = to_dialect(BUILDERS["ranked_values"](SPARK), SPARK.name)
    assert "CAST(ROW_NUMBER() OVER" in spark.upper() and "AS BIGINT)" in spark.upper()
