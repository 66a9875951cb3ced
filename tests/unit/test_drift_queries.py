"""The drift and performance SQL is generated in one place and renders for Spark through sqlglot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
import sqlglot

from lucid.engines import drift_sql as queries
from lucid.engines import performance_sql
from lucid.engines import quantile_sketches as sketches
from lucid.engines.dialects import DUCKDB, SPARK, Dialect, to_dialect
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
    "classification_counts": lambda d: performance_sql.classification_counts(d, "t", "y", "s", 0.5),
    "expected_accuracy": lambda d: performance_sql.expected_accuracy(d, "t", "s", 0.5),
    "auc": lambda d: performance_sql.auc(d, "t", "s", "y"),
    "auc_estimated": lambda d: performance_sql.auc(d, "t", "s", None),
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


@pytest.mark.parametrize("name", ["bin_counts", "numeric_summaries", "auc", "health_counts"])
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


def test_duckdb_ranks_values_by_an_exact_sort() -> None:
    sql = BUILDERS["ranked_values"](DUCKDB).upper()
    assert "ROW_NUMBER() OVER" in sql and "KLL_" not in sql


@pytest.mark.parametrize("name", ["ranked_values", "ecdf_distances"])
def test_spark_reads_quantiles_from_one_sketch_per_column_in_one_scan(name: str) -> None:
    """No sort, no window over the values, no VALUES list (Spark plans each literal): one KLL
    aggregation over the two columns, read once."""
    spark = to_dialect(BUILDERS[name](SPARK), SPARK.name).upper()
    assert spark.count("KLL_SKETCH_AGG_DOUBLE(") == 2
    assert spark.count("KLL_SKETCH_GET_QUANTILE_DOUBLE(") == 1
    assert spark.count(" FROM `T`") == 1
    assert "ROW_NUMBER()" not in spark and "VALUES" not in spark


def test_number_lists_round_trip_every_double_exactly(engine: DuckDBEngine) -> None:
    """Reference points and ranks reach the engine as one text cast to a list: each double
    comes back bit for bit."""
    values = [0.1, -2.5, 1e-300, 5e-324, 1.7976931348623157e308, 1 / 3, 12345678.901234567]
    [(found,)] = engine.query(f"SELECT {sketches.number_list(values, 'DOUBLE')}")
    assert found == values
    [(ranks,)] = engine.query(f"SELECT {sketches.number_list([0, 7, 3_000_000_000], 'BIGINT')}")
    assert ranks == [0, 7, 3_000_000_000]


def test_the_stated_sketch_error_is_below_half_an_ecdf_slice() -> None:
    """Spark's rank error (99 % confidence) against the 1/1000 of the rows each ECDF point of a
    profile weighs."""
    assert SPARK.sketch_k is not None
    error = sketches.sketch_rank_error(SPARK.sketch_k) + 0.5 / sketches.QUANTILE_GRID
    assert error < 0.5 / 1000
