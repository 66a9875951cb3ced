"""DuckDB's column types as Lucid's (`ColumnType`), and the DuckDB types Lucid declares."""

from __future__ import annotations

from lucid.contracts.semantic.sources import ColumnType

_DUCKDB_TYPES: dict[str, ColumnType] = {
    "VARCHAR": ColumnType.STRING,
    "BIGINT": ColumnType.INTEGER,
    "INTEGER": ColumnType.INTEGER,
    "SMALLINT": ColumnType.INTEGER,
    "TINYINT": ColumnType.INTEGER,
    "HUGEINT": ColumnType.INTEGER,
    "UBIGINT": ColumnType.INTEGER,
    "UINTEGER": ColumnType.INTEGER,
    "USMALLINT": ColumnType.INTEGER,
    "UTINYINT": ColumnType.INTEGER,
    "DOUBLE": ColumnType.DOUBLE,
    "FLOAT": ColumnType.DOUBLE,
    "BOOLEAN": ColumnType.BOOLEAN,
    "TIMESTAMP": ColumnType.TIMESTAMP,
    # Aware timestamps (a pandas or Arrow column with a zone) hold instants: the session runs
    # in UTC, so comparing them with the naive-UTC spine compares instants.
    "TIMESTAMP WITH TIME ZONE": ColumnType.TIMESTAMP,
    "TIMESTAMPTZ_NS": ColumnType.TIMESTAMP,
    "TIMESTAMP_NS": ColumnType.TIMESTAMP,
    "TIMESTAMP_MS": ColumnType.TIMESTAMP,
    "TIMESTAMP_S": ColumnType.TIMESTAMP,
    "DATE": ColumnType.DATE,
}
CSV_TYPES = {ColumnType.TIMESTAMP: "TIMESTAMPTZ"}
DECLARED_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DOUBLE: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
}


NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)


def column_type(duckdb_type: str) -> ColumnType | None:
    """Lucid's type for a DuckDB type name (DECIMAL counts as double), or None."""
    if duckdb_type.startswith("DECIMAL"):
        return ColumnType.DOUBLE
    return _DUCKDB_TYPES.get(duckdb_type)


def found_type(duckdb_type: str) -> ColumnType | str:
    """Lucid's type for a DuckDB type name, or the name itself when Lucid has none."""
    return column_type(duckdb_type) or duckdb_type


def type_word(duckdb_type: str) -> str:
    """How a refusal names a column's type: Lucid's word for it, else DuckDB's name."""
    if duckdb_type == "VARCHAR":
        return "text"
    found = column_type(duckdb_type)
    return found.value if found else duckdb_type.lower()


TIME_TYPES = frozenset(
    name for name, kind in _DUCKDB_TYPES.items() if kind in (ColumnType.TIMESTAMP, ColumnType.DATE)
)
