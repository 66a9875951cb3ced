"""SQL dialects: every query is written once in DuckDB's dialect and turned into another
engine's (Spark) here, by sqlglot, the one transpiler of Lucid."""

from __future__ import annotations

from lucid.errors import InvalidInput

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
