"""PostgreSQL tables as sources of the embedded engine: their columns described, and their rows
exported as CSV for DuckDB to copy (DuckDB's postgres extension would have to be downloaded at
run time, which a closed network refuses)."""

from __future__ import annotations

from pathlib import Path

from lucid.contracts.semantic.sources import ColumnType, Source
from lucid.engines.dialects import first_line
from lucid.engines.relations import quote
from lucid.errors import InvalidInput, StorageUnavailable


def split_table(source: Source) -> tuple[str, str]:
    location, sep, table = source.location.rpartition("#")
    if not sep or not location or not table:
        raise InvalidInput(
            f"source {source.name}.location",
            f"{source.location!r} must name the table after '#', e.g. warehouse.duckdb#events",
        )
    return location, table


def describe_postgres(source: Source) -> dict[str, ColumnType | str]:
    import psycopg

    url, table = split_table(source)
    schema_name, _, table_name = table.rpartition(".")
    query = (
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND table_schema = COALESCE(NULLIF(%s, ''), current_schema())"
    )
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            rows = connection.execute(query, (table_name, schema_name)).fetchall()
    except psycopg.Error as error:
        raise StorageUnavailable(
            f"Cannot read source {source.name} from PostgreSQL: {first_line(error)}"
        ) from None
    if not rows:
        raise InvalidInput(f"source {source.name}.location", f"table {table} does not exist")
    return {name: _POSTGRES_TYPES.get(str(kind)) or str(kind) for name, kind in rows}


_POSTGRES_TYPES: dict[str, ColumnType] = {
    "text": ColumnType.STRING,
    "character varying": ColumnType.STRING,
    "character": ColumnType.STRING,
    "uuid": ColumnType.STRING,
    "bigint": ColumnType.INTEGER,
    "integer": ColumnType.INTEGER,
    "smallint": ColumnType.INTEGER,
    "double precision": ColumnType.DOUBLE,
    "real": ColumnType.DOUBLE,
    "numeric": ColumnType.DOUBLE,
    "boolean": ColumnType.BOOLEAN,
    "timestamp without time zone": ColumnType.TIMESTAMP,
    "timestamp with time zone": ColumnType.TIMESTAMP,
    "date": ColumnType.DATE,
}


def export_postgres(url: str, table: str, columns: list[str], target: Path) -> None:
    import psycopg

    names = ", ".join(quote(column) for column in columns)
    relation = ".".join(quote(part) for part in table.split("."))
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        # Times leave PostgreSQL in UTC so that DuckDB reads the same instants.
        cursor.execute("SET TIME ZONE 'UTC'")
        with (
            target.open("w", newline="") as handle,
            cursor.copy(
                f"COPY (SELECT {names} FROM {relation}) TO STDOUT WITH (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            for block in copy:
                handle.write(bytes(block).decode())
