"""SQL dialects: every query is written once in DuckDB's dialect and turned into another
engine's (Spark) here, by sqlglot, the one transpiler of Lucid. A `Dialect` holds the few pieces
the monitoring SQL writes differently per engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from lucid.errors import InvalidInput

T = TypeVar("T")

SOURCE_DIALECT = "duckdb"
"""The dialect every query is written in."""

DIALECTS = (SOURCE_DIALECT, "spark")
"""The engines' dialects: DuckDB's runs snapshots as ASOF JOINs, Spark's as a running last."""


def first_line(error: Exception) -> str:
    """The first line of an engine's error message (or the error's name), for a sentence."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def to_dialect(sql: str, dialect: str) -> str:
    """The same query in `dialect`'s SQL (DuckDB's text is returned as written); refused with
    a sentence when sqlglot cannot read it or `dialect` cannot express a part of it."""
    if dialect == SOURCE_DIALECT:
        return sql
    import sqlglot  # imported here: sqlglot takes half a second to import
    from sqlglot.errors import ErrorLevel, SqlglotError

    try:
        rendered = sqlglot.transpile(
            sql,
            read=SOURCE_DIALECT,
            write=dialect,
            pretty=True,
            unsupported_level=ErrorLevel.RAISE,
        )
    except SqlglotError as error:
        raise InvalidInput(
            "dialect",
            f"{dialect} cannot express this query written for DuckDB: {first_line(error)}",
        ) from None
    return ";\n".join(rendered)


@dataclass(frozen=True, slots=True)
class Dialect:
    """The dialect-specific piece of the drift SQL, the usable-number test (a template over
    `{x}`, a DOUBLE expression), and how many columns a query should read."""

    name: str
    usable_template: str
    columns_per_query: int | None = None
    """How many columns a step reads per query (None: all of them). Spark runs every query as
    jobs with seconds of overhead and a scan each, so it reads all at once; DuckDB is faster
    one column at a time (its query overhead is negligible, its vectorised plans simpler)."""
    sketch_k: int | None = None
    """None: ranked values by an exact sort. Otherwise the `k` of the KLL quantile sketch
    each column's ranked values and current ECDF are read from (one scan, no sort; see
    `lucid.engines.drift_sql` for the error)."""

    def groups(self, columns: Sequence[T]) -> list[list[T]]:
        """`columns` in the groups this dialect reads per query."""
        size = self.columns_per_query or max(len(columns), 1)
        return [list(columns[i : i + size]) for i in range(0, len(columns), size)]

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

    def where(self, *conditions: str | None) -> str:
        """A WHERE clause of the conditions given (None and "" left out), else nothing."""
        present = [c for c in conditions if c]
        return " WHERE " + " AND ".join(f"({c})" for c in present) if present else ""


DUCKDB = Dialect("duckdb", "isfinite({x})", columns_per_query=1)
SPARK = Dialect(
    "spark",
    "({x} IS NOT NULL AND NOT isnan({x}) AND abs({x}) <> CAST('Infinity' AS DOUBLE))",
    sketch_k=8192,
)
