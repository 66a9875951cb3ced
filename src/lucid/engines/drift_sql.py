"""Every SQL text of drift monitoring, generated in one place (the performance metrics' in
`lucid.engines.performance_sql`).

Queries are written once, in DuckDB's syntax, using a portable subset (CASE, CAST, FILTER,
GROUP BY, window functions, VALUES). The one piece no common syntax covers — the test for a
usable number — comes from the engine's `Dialect`, and so does how ranked values are read: by
an exact sort on DuckDB, from quantile sketches on Spark (`Dialect.sketch_k`). An engine other
than DuckDB runs the text through `lucid.engines.dialects.to_dialect` (quoting, `//`, list
literals, type names): the Spark engine does, for `SPARK`.

Each step of a profile or a drift run reads every column it needs in one query, so a Spark run
is a handful of jobs instead of several per column: aggregates side by side in one row (bins
as counts above each edge), categories by GROUPING SETS, and for every quantile and order
statistic either one sort over the columns stacked (UNION ALL, `STACK` the column index, one
window partition per column) or one KLL sketch per column, all in one aggregation (one scan,
no shuffle of the values).

Sketches (Spark): how ranks are read and their error are in `lucid.engines.quantile_sketches`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from lucid.engines.dialects import Dialect
from lucid.engines.performance_sql import auc, classification_counts, expected_accuracy
from lucid.engines.quantile_sketches import QUANTILE_GRID, merged_points, number_list, sketched

T = TypeVar("T")


def segment_filter(d: Dialect, column: str, value: str) -> str:
    """Rows whose segment column, read as text, equals `value`."""
    return f"CAST({d.quote(column)} AS VARCHAR) = {d.text(value)}"


def segment_values(d: Dialect, table: str, column: str) -> str:
    """The distinct non-NULL values of a segment column, as text, sorted."""
    col = d.quote(column)
    return (
        f"SELECT DISTINCT CAST({col} AS VARCHAR) AS v FROM {d.quote(table)} "
        f"WHERE {col} IS NOT NULL ORDER BY v"
    )


STACK = "__lucid_column"
"""The column index of a stacked query: every column of a step in one query."""


def _by_column(columns: Sequence[object]) -> str:
    """The window partition of a stacked query: one per column, none for a single column
    (a constant partition key costs DuckDB a hash partitioning for nothing)."""
    return f"PARTITION BY {STACK} " if len(columns) > 1 else ""


def _stacked_values(d: Dialect, table: str, columns: Sequence[str], where: str | None) -> str:
    """(column index, v) for the usable values of every column: one UNION ALL branch per
    column, each reading only its column (a cross join with a CASE per row was 2-4x slower
    on DuckDB)."""
    return " UNION ALL ".join(
        f"SELECT {i} AS {STACK}, {d.as_double(column)} AS v FROM {d.quote(table)}"
        f"{d.where(d.usable(column), where)}"
        for i, column in enumerate(columns)
    )


def _usable_columns(
    d: Dialect, table: str, columns: Sequence[str], where: str | None
) -> tuple[str, list[str]]:
    """A relation with each column as a DOUBLE that is NULL when not usable (so plain
    aggregates skip it), and the names of those columns. Testing usability once per value
    keeps Spark's generated code small (with a FILTER per aggregate, 1 M rows took 14 s)."""
    names = [f"__lucid_x{i}" for i in range(len(columns))]
    cleaned = ", ".join(
        f"CASE WHEN {d.usable(column)} THEN {d.as_double(column)} END AS {name}"
        for column, name in zip(columns, names, strict=True)
    )
    return f"(SELECT {cleaned} FROM {d.quote(table)}{d.where(where)}) AS cleaned", names


def numeric_summaries(
    d: Dialect, table: str, columns: Sequence[str], where: str | None = None
) -> str:
    """One row; per numeric column, seven values: rows, usable rows, min, max, mean,
    population standard deviation and the approximate (HyperLogLog) number of distinct usable
    values."""
    relation, names = _usable_columns(d, table, columns, where)
    parts = [
        f"count(*), count({x}), min({x}), max({x}), avg({x}), stddev_pop({x}), "
        f"approx_count_distinct({x})"
        for x in names
    ]
    return f"SELECT {', '.join(parts)} FROM {relation}"


def ranked_values(
    d: Dialect,
    table: str,
    columns: Sequence[tuple[str, Sequence[int]]],
    where: str | None = None,
) -> str:
    """Rows (column index, rank, v), ordered: for each `(column, ranks)`, the usable values of
    the column at those 0-based ranks of its ascending order. One sort per column, all in one
    query (a window partition each); exact quantiles and order statistics are read from these
    rows (`lucid.monitoring.profiles`), so no engine's quantile function is needed. With
    `Dialect.sketch_k`, read from one sketch per column instead (ranks within the module
    docstring's error)."""
    wanted = ", ".join(f"({i}, {rank})" for i, (_, ranks) in enumerate(columns) for rank in ranks)
    names = [column for column, _ in columns]
    if d.sketch_k is not None:
        index = f"CAST(floor((k + 0.5) * {QUANTILE_GRID} / n) AS BIGINT) + 1"
        ks = [number_list(ranks, "BIGINT") for _, ranks in columns]
        relation, cleaned = _usable_columns(d, table, names, where)
        source = sketched(relation, cleaned, d.sketch_k, STACK, {"ks": ks})
        return f"""
SELECT {STACK}, k, q[{index}] FROM (
    SELECT {STACK}, n, q, unnest(ks) AS k FROM ({source}) AS sketched
) AS wanted
ORDER BY 1, 2
"""
    return f"""
SELECT ranked.{STACK}, ranked.k, ranked.v FROM (
    -- BIGINT: Spark's row_number is an INT
    SELECT {STACK}, v, CAST(row_number() OVER ({_by_column(names)}ORDER BY v) AS BIGINT) - 1 AS k
    FROM ({_stacked_values(d, table, names, where)}) AS stacked
) AS ranked
JOIN (VALUES {wanted}) AS wanted(c, k) ON ranked.{STACK} = wanted.c AND ranked.k = wanted.k
ORDER BY 1, 2
"""


def value_counts(d: Dialect, table: str, columns: Sequence[str], where: str | None = None) -> str:
    """Rows (column index, v, count), ordered: each distinct usable value of each numeric
    column and its count."""
    return (
        f"SELECT {STACK}, v, count(*) FROM ({_stacked_values(d, table, columns, where)}) "
        f"AS stacked GROUP BY {STACK}, v ORDER BY {STACK}, v"
    )


def bin_counts(
    d: Dialect,
    table: str,
    columns: Sequence[tuple[str, Sequence[float]]],
    where: str | None = None,
) -> str:
    """One row; per `(column, edges)` (edges ascending): rows, usable rows, then for each edge
    the usable rows strictly above it. Bins are right-closed, (e[i-1], e[i]], so bin i holds
    (above e[i-1]) - (above e[i]): every column's bins in one pass, no sort, no grouping."""
    relation, names = _usable_columns(d, table, [column for column, _ in columns], where)
    parts = []
    for x, (_, edges) in zip(names, columns, strict=True):
        above = [f"count(CASE WHEN {x} > {d.double(e)} THEN 1 END)" for e in edges]
        parts.append(", ".join([f"count(*), count({x})", *above]))
    return f"SELECT {', '.join(parts)} FROM {relation}"


def category_counts(
    d: Dialect, table: str, columns: Sequence[str], where: str | None = None
) -> str:
    """Rows (grouping flag of each column, each column as text, count) grouped by one column
    at a time (GROUPING SETS): the flag is 0 for the column a row counts. A category NULL
    stays NULL."""
    flags = ", ".join(f"grouping({d.quote(column)})" for column in columns)
    values = ", ".join(f"CAST({d.quote(column)} AS VARCHAR)" for column in columns)
    sets = ", ".join(f"({d.quote(column)})" for column in columns)
    return (
        f"SELECT {flags}, {values}, count(*) FROM {d.quote(table)}{d.where(where)} "
        f"GROUP BY GROUPING SETS ({sets})"
    )


def ecdf_distances(
    d: Dialect,
    table: str,
    columns: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    where: str | None = None,
) -> str:
    """Rows (column index, KS D, Wasserstein-1): for each `(column, reference)`, the distances
    between the current column and a reference given as (value, weight) points, over the
    merged ECDFs.

    Both ECDFs are evaluated at every point of either side (right-continuous steps); D is the
    largest gap, W1 the integral of the gap over the merged support. Exact when the reference
    points are its distinct values with their counts. Every column runs in one query, each in
    its own window partition. With `Dialect.sketch_k`, the current side is the `QUANTILE_GRID`
    quantiles of its sketch (the module docstring gives the error).
    """
    names = [column for column, _ in columns]
    if d.sketch_k is not None:
        relation, cleaned = _usable_columns(d, table, names, where)
        references = [reference for _, reference in columns]
        merged = merged_points(relation, cleaned, d.sketch_k, STACK, references)
    else:
        points = ", ".join(
            f"({i}, {d.double(v)}, {d.double(w)})"
            for i, (_, reference) in enumerate(columns)
            for v, w in reference
        )
        merged = f"""
    SELECT {STACK}, v, 1.0 AS c, 0.0 AS r
    FROM ({_stacked_values(d, table, names, where)}) AS stacked
    UNION ALL
    SELECT {STACK}, v, 0.0 AS c, w AS r
    FROM (VALUES {points}) AS reference_points({STACK}, v, w)"""
    return f"""
WITH merged AS ({merged}
), steps AS (
    SELECT {STACK}, v, sum(c) AS c, sum(r) AS r FROM merged GROUP BY {STACK}, v
), ecdf AS (
    SELECT {STACK}, v,
        sum(c) OVER running / sum(c) OVER ({_by_column(columns)}) AS fc,
        sum(r) OVER running / sum(r) OVER ({_by_column(columns)}) AS fr,
        lead(v) OVER ({_by_column(columns)}ORDER BY v) - v AS width
    FROM steps
    WINDOW running AS (
        {_by_column(columns)}ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT {STACK}, max(abs(fc - fr)), sum(abs(fc - fr) * coalesce(width, 0.0))
FROM ecdf GROUP BY {STACK}
"""


def health_counts(
    d: Dialect,
    table: str,
    numeric: Sequence[tuple[str, float | None, float | None]],
    categorical: Sequence[tuple[str, Sequence[str]]],
    where: str | None = None,
) -> str:
    """One row, every column of a data-health check in one scan: rows; per `(column, min,
    max)` its usable values and those below `min` or above `max` (0 without a range); per
    `(column, named)` its usable (non-NULL) rows, those in no category of `named`, then the
    rows of each category of `named`, in order."""
    parts = ["count(*)"]
    for column, low, high in numeric:
        ok = d.usable(column)
        x = d.as_double(column)
        outside = (
            f"count(CASE WHEN {ok} AND ({x} < {d.double(low)} OR {x} > {d.double(high)}) "
            "THEN 1 END)"
            if low is not None and high is not None
            else "CAST(0 AS BIGINT)"
        )
        parts += [f"count(CASE WHEN {ok} THEN 1 END)", outside]
    for column, named in categorical:
        v = f"CAST({d.quote(column)} AS VARCHAR)"
        known = ", ".join(d.text(c) for c in named)
        parts += [
            f"count({d.quote(column)})",
            f"count(CASE WHEN {v} NOT IN ({known}) THEN 1 END)" if named else f"count({v})",
            *(f"count(CASE WHEN {v} = {d.text(c)} THEN 1 END)" for c in named),
        ]
    return f"SELECT {', '.join(parts)} FROM {d.quote(table)}{d.where(where)}"


def feature_rows(d: Dialect, table: str, numeric: Sequence[str], categorical: Sequence[str]) -> str:
    """Every row of `table` in its order: the `numeric` columns as DOUBLE (unusable values
    kept as they are), then the `categorical` ones as text, read the way `category_counts`
    reads them (what the multivariate checks stream)."""
    parts = [d.as_double(column) for column in numeric]
    parts += [f"CAST({d.quote(column)} AS VARCHAR)" for column in categorical]
    names = [*numeric, *categorical]
    listed = ", ".join(f"{p} AS {d.quote(n)}" for p, n in zip(parts, names, strict=True))
    return f"SELECT {listed} FROM {d.quote(table)}"


@dataclass(frozen=True, slots=True)
class DialectQueries:
    """Every drift query with its `Dialect` bound: what an engine offers monitoring as
    `drift_queries` (`lucid.ports.offline.DriftQueries`)."""

    dialect: Dialect

    def groups(self, columns: Sequence[T]) -> list[list[T]]:
        return self.dialect.groups(columns)

    def segment_filter(self, column: str, value: str) -> str:
        return segment_filter(self.dialect, column, value)

    def segment_values(self, table: str, column: str) -> str:
        return segment_values(self.dialect, table, column)

    def numeric_summaries(
        self, table: str, columns: Sequence[str], where: str | None = None
    ) -> str:
        return numeric_summaries(self.dialect, table, columns, where)

    def ranked_values(
        self, table: str, columns: Sequence[tuple[str, Sequence[int]]], where: str | None = None
    ) -> str:
        return ranked_values(self.dialect, table, columns, where)

    def value_counts(self, table: str, columns: Sequence[str], where: str | None = None) -> str:
        return value_counts(self.dialect, table, columns, where)

    def bin_counts(
        self,
        table: str,
        columns: Sequence[tuple[str, Sequence[float]]],
        where: str | None = None,
    ) -> str:
        return bin_counts(self.dialect, table, columns, where)

    def category_counts(self, table: str, columns: Sequence[str], where: str | None = None) -> str:
        return category_counts(self.dialect, table, columns, where)

    def ecdf_distances(
        self,
        table: str,
        columns: Sequence[tuple[str, Sequence[tuple[float, float]]]],
        where: str | None = None,
    ) -> str:
        return ecdf_distances(self.dialect, table, columns, where)

    def classification_counts(
        self, table: str, label: str, score: str, cutoff: float, where: str | None = None
    ) -> str:
        return classification_counts(self.dialect, table, label, score, cutoff, where)

    def expected_accuracy(
        self, table: str, score: str, cutoff: float, where: str | None = None
    ) -> str:
        return expected_accuracy(self.dialect, table, score, cutoff, where)

    def auc(self, table: str, score: str, label: str | None, where: str | None = None) -> str:
        return auc(self.dialect, table, score, label, where)

    def health_counts(
        self,
        table: str,
        numeric: Sequence[tuple[str, float | None, float | None]],
        categorical: Sequence[tuple[str, Sequence[str]]],
        where: str | None = None,
    ) -> str:
        return health_counts(self.dialect, table, numeric, categorical, where)

    def feature_rows(self, table: str, numeric: Sequence[str], categorical: Sequence[str]) -> str:
        return feature_rows(self.dialect, table, numeric, categorical)
