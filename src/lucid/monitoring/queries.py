"""Every SQL text of drift monitoring, generated in one place.

Queries are written once, in DuckDB's syntax, using a portable subset (CASE, CAST, FILTER,
GROUP BY, window functions, VALUES). The two pieces no common syntax covers — the test for a
usable number and exact quantiles — come from the engine's `Dialect`. An engine other than
DuckDB runs `render(sql, dialect)`, which transpiles with sqlglot (quoting, `//`, list
literals, type names); `SPARK` is ready for a Spark adapter and its rendering is tested.

Each step of a profile or a drift run reads every column it needs in one query, stacked: the
table cross-joined with the column indices (`STACK`), so a Spark run is a handful of jobs
instead of several per column, and sorts run one window partition per column.

Usable values: a numeric value is usable when it is not NULL, not NaN and not +-inf; a
categorical value when it is not NULL. Every query receives an optional `where` filter (a
segment) and only counts usable values unless it says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    """The dialect-specific pieces of the drift SQL, as templates over `{x}` (a DOUBLE
    expression) and `{ps}` (a comma-separated list of probabilities)."""

    name: str
    usable_template: str
    quantiles_template: str

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def text(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def double(self, value: float) -> str:
        """A DOUBLE literal that round-trips exactly (17 significant digits, exponent form)."""
        return f"{value:.16e}"

    def as_double(self, column: str) -> str:
        return f"CAST({self.quote(column)} AS DOUBLE)"

    def usable(self, column: str) -> str:
        return self.usable_template.format(x=self.as_double(column))

    def quantiles(self, expression: str, probabilities: Sequence[float]) -> str:
        """Exact linear-interpolation quantiles (numpy's default method) as one list value."""
        listed = ", ".join(self.double(p) for p in probabilities)
        return self.quantiles_template.format(x=expression, ps=listed)


DUCKDB = Dialect("duckdb", "isfinite({x})", "quantile_cont({x}, [{ps}])")
SPARK = Dialect(
    "spark",
    "({x} IS NOT NULL AND NOT isnan({x}) AND abs({x}) <> CAST('Infinity' AS DOUBLE))",
    "percentile({x}, [{ps}])",
)
DIALECTS = {"duckdb": DUCKDB, "spark": SPARK}


def render(sql: str, dialect: Dialect) -> str:
    """The query in `dialect`'s own syntax (DuckDB's text is returned as written)."""
    if dialect.name == "duckdb":
        return sql
    import sqlglot  # only engines other than DuckDB need the transpiler
    from sqlglot.errors import ErrorLevel

    [rendered] = sqlglot.transpile(
        sql, read="duckdb", write=dialect.name, unsupported_level=ErrorLevel.RAISE
    )
    return rendered


def _where(*conditions: str | None) -> str:
    present = [c for c in conditions if c]
    return " WHERE " + " AND ".join(f"({c})" for c in present) if present else ""


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
"""The column index of a stacked (unpivoted) query: every column of a step in one pass."""


def _stacked(count: int) -> str:
    """The table's rows once per column: a cross join with the indices 0 … count - 1."""
    indices = ", ".join(f"({i})" for i in range(count))
    return f" CROSS JOIN (VALUES {indices}) AS lucid_stack({STACK})"


def _per_column(expressions: Sequence[str]) -> str:
    """The expression of the row's column (by `STACK`)."""
    cases = " ".join(f"WHEN {i} THEN {e}" for i, e in enumerate(expressions))
    return f"CASE {STACK} {cases} END"


def numeric_summaries(
    d: Dialect, table: str, columns: Sequence[str], where: str | None = None
) -> str:
    """One row; per numeric column, seven values: rows, usable rows, min, max, mean,
    population standard deviation and the approximate (HyperLogLog) number of distinct usable
    values."""
    parts = []
    for column in columns:
        x, usable = d.as_double(column), d.usable(column)
        parts.append(
            f"count(*), count(*) FILTER (WHERE {usable}), "
            f"min({x}) FILTER (WHERE {usable}), max({x}) FILTER (WHERE {usable}), "
            f"avg({x}) FILTER (WHERE {usable}), stddev_pop({x}) FILTER (WHERE {usable}), "
            f"approx_count_distinct({x}) FILTER (WHERE {usable})"
        )
    return f"SELECT {', '.join(parts)} FROM {d.quote(table)}{_where(where)}"


def quantiles(
    d: Dialect,
    table: str,
    columns: Sequence[str],
    probabilities: Sequence[float],
    where: str | None = None,
) -> str:
    """One row; per column, the quantiles of its usable values at `probabilities` (a list)."""
    parts = [
        f"{d.quantiles(d.as_double(column), probabilities)} FILTER (WHERE {d.usable(column)})"
        for column in columns
    ]
    return f"SELECT {', '.join(parts)} FROM {d.quote(table)}{_where(where)}"


def order_statistics(
    d: Dialect, table: str, columns: Sequence[str], points: int, where: str | None = None
) -> str:
    """Rows (column index, v), ordered: per column, `points` order statistics of its usable
    values, one per equal-count slice: the value of rank floor((2i + 1)·n / 2·points)
    (0-based) for i = 0 … points - 1, i.e. the midpoints of the slices. One sort per column,
    every column in one query (each its own window partition), unlike a list of quantiles
    (which scales with the list length). Needs n >= points."""
    x = _per_column([d.as_double(column) for column in columns])
    usable = _per_column([d.usable(column) for column in columns])
    return f"""
SELECT {STACK}, v FROM (
    -- BIGINT: Spark's row_number is an INT, and k * points overflows it past 2^31 / points
    SELECT {STACK}, v,
        CAST(row_number() OVER (PARTITION BY {STACK} ORDER BY v) AS BIGINT) - 1 AS k,
        count(*) OVER (PARTITION BY {STACK}) AS n
    FROM (
        SELECT {STACK}, {x} AS v FROM {d.quote(table)}{_stacked(len(columns))}
        {_where(usable, where)}
    ) AS stacked
) AS ranked
WHERE k = ((2 * ((k * {points}) // n) + 1) * n) // (2 * {points})
ORDER BY {STACK}, v
"""


def value_counts(d: Dialect, table: str, columns: Sequence[str], where: str | None = None) -> str:
    """Rows (column index, v, count), ordered: each distinct usable value of each numeric
    column and its count."""
    x = _per_column([d.as_double(column) for column in columns])
    usable = _per_column([d.usable(column) for column in columns])
    return (
        f"SELECT {STACK}, {x} AS v, count(*) FROM {d.quote(table)}{_stacked(len(columns))}"
        f"{_where(usable, where)} GROUP BY {STACK}, v ORDER BY {STACK}, v"
    )


def bin_index(d: Dialect, column: str, edges: Sequence[float]) -> str:
    """The bin of each value: the number of inner edges strictly below it (right-closed bins
    (e[i-1], e[i]]); -1 for a value that is not usable."""
    x = d.as_double(column)
    steps = " + ".join(f"CAST({x} > {d.double(e)} AS INTEGER)" for e in edges) or "0"
    return f"CASE WHEN {d.usable(column)} THEN {steps} ELSE -1 END"


def column_counts(
    d: Dialect,
    table: str,
    columns: Sequence[tuple[str, Sequence[float] | None]],
    where: str | None = None,
) -> str:
    """Rows (column index, value as text, count) for every column in one pass: a numeric
    column `(name, edges)` is counted per bin of `edges` (bin -1 holds the unusable values),
    a categorical column `(name, None)` per category (NULL stays NULL)."""
    values = [
        f"CAST({d.quote(column) if edges is None else bin_index(d, column, edges)} AS VARCHAR)"
        for column, edges in columns
    ]
    return (
        f"SELECT {STACK}, {_per_column(values)} AS v, count(*) FROM {d.quote(table)}"
        f"{_stacked(len(columns))}{_where(where)} GROUP BY {STACK}, v"
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
    its own window partition.
    """
    points = ", ".join(
        f"({i}, {d.double(v)}, {d.double(w)})"
        for i, (_, reference) in enumerate(columns)
        for v, w in reference
    )
    x = _per_column([d.as_double(column) for column, _ in columns])
    usable = _per_column([d.usable(column) for column, _ in columns])
    return f"""
WITH merged AS (
    SELECT {STACK}, {x} AS v, 1.0 AS c, 0.0 AS r
    FROM {d.quote(table)}{_stacked(len(columns))}{_where(usable, where)}
    UNION ALL
    SELECT {STACK}, v, 0.0 AS c, w AS r
    FROM (VALUES {points}) AS reference_points({STACK}, v, w)
), steps AS (
    SELECT {STACK}, v, sum(c) AS c, sum(r) AS r FROM merged GROUP BY {STACK}, v
), ecdf AS (
    SELECT {STACK}, v,
        sum(c) OVER running / sum(c) OVER (PARTITION BY {STACK}) AS fc,
        sum(r) OVER running / sum(r) OVER (PARTITION BY {STACK}) AS fr,
        lead(v) OVER (PARTITION BY {STACK} ORDER BY v) - v AS width
    FROM steps
    WINDOW running AS (
        PARTITION BY {STACK} ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT {STACK}, max(abs(fc - fr)), sum(abs(fc - fr) * coalesce(width, 0.0))
FROM ecdf GROUP BY {STACK}
"""


def classification_counts(
    d: Dialect, table: str, label: str, score: str, cutoff: float, where: str | None = None
) -> str:
    """Rows with a usable label and score: count, true/false positives and negatives at
    `cutoff` (predicted positive when score >= cutoff), and the CBPE expected accuracy sum.

    The label is positive when it equals 1 (booleans and 0/1 integers both work).
    """
    y = f"CAST({d.quote(label)} AS DOUBLE)"
    s = d.as_double(score)
    c = d.double(cutoff)
    usable = f"{d.quote(label)} IS NOT NULL AND {d.usable(score)}"
    return (
        f"SELECT count(*), "
        f"count(*) FILTER (WHERE {s} >= {c} AND {y} = 1), "
        f"count(*) FILTER (WHERE {s} >= {c} AND {y} <> 1), "
        f"count(*) FILTER (WHERE {s} < {c} AND {y} = 1), "
        f"count(*) FILTER (WHERE {s} < {c} AND {y} <> 1) "
        f"FROM {d.quote(table)}{_where(usable, where)}"
    )


def expected_accuracy(
    d: Dialect, table: str, score: str, cutoff: float, where: str | None = None
) -> str:
    """Label-free (CBPE) accuracy: the mean probability that each decision is right, taking
    the score as a calibrated P(label = 1). Also returns the usable row count."""
    s = d.as_double(score)
    return (
        f"SELECT count(*), avg(CASE WHEN {s} >= {d.double(cutoff)} THEN {s} ELSE 1 - {s} END) "
        f"FROM {d.quote(table)}{_where(d.usable(score), where)}"
    )


def auc(d: Dialect, table: str, score: str, label: str | None, where: str | None = None) -> str:
    """Area under the ROC curve by the Mann-Whitney sum, ties counted one half.

    With `label` the weights are the labels (realised AUC); without, each row weighs as
    positive by its score and as negative by 1 - score (CBPE's label-free estimate).
    """
    s = d.as_double(score)
    if label is None:
        positive, negative = s, f"1 - {s}"
        usable = d.usable(score)
    else:
        y = f"CAST({d.quote(label)} AS DOUBLE)"
        positive = f"CASE WHEN {y} = 1 THEN 1.0 ELSE 0.0 END"
        negative = f"CASE WHEN {y} = 1 THEN 0.0 ELSE 1.0 END"
        usable = f"{d.quote(label)} IS NOT NULL AND {d.usable(score)}"
    return f"""
WITH by_score AS (
    SELECT {s} AS s, sum({positive}) AS pos, sum({negative}) AS neg
    FROM {d.quote(table)}{_where(usable, where)} GROUP BY s
), ranked AS (
    SELECT pos, neg, coalesce(sum(neg) OVER (
        ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0.0) AS below
    FROM by_score
)
SELECT sum(pos * (below + 0.5 * neg)), sum(pos), sum(neg) FROM ranked
"""
