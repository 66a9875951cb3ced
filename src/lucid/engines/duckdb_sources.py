"""Sources as DuckDB SQL: Parquet and CSV read in place, DuckDB attached, PostgreSQL copied."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from lucid.contracts.semantic import ColumnType, Source, SourceKind
from lucid.engines.dialects import first_line
from lucid.engines.duckdb_access import Readable, source_readable
from lucid.engines.duckdb_types import CSV_TYPES, DECLARED_TYPES, found_type
from lucid.engines.postgres_sources import describe_postgres, export_postgres, split_table
from lucid.engines.relations import literal, quote
from lucid.errors import InvalidInput, StorageUnavailable


def resolved(project_dir: Path, location: str) -> Path:
    """`location` as a path, relative ones under `project_dir`."""
    path = Path(location)
    return path if path.is_absolute() else project_dir / path


def source_glob(project_dir: Path, source: Source, extension: str) -> str:
    """The file, or every `*.<extension>` file under the folder, `source` names."""
    path = resolved(project_dir, source.location)
    if path.is_dir():
        return str(path / "**" / f"*.{extension}")
    return str(path)


def readable_of(project_dir: Path, source: Source) -> Readable:
    """What a confined connection must be allowed to read for `source`."""
    if source.kind is SourceKind.DUCKDB:
        path, _ = split_table(source)
        return source_readable(source, str(resolved(project_dir, path)))
    if source.kind is SourceKind.POSTGRESQL:
        return Readable()
    extension = "parquet" if source.kind is SourceKind.PARQUET else "csv"
    return source_readable(source, source_glob(project_dir, source, extension))


def reader_sql(project_dir: Path, source: Source, attach: Callable[[str], str]) -> str:
    """A SELECT reading `source` in place; `attach` gives the alias of an attached DuckDB
    file."""
    if source.kind is SourceKind.PARQUET:
        path = literal(source_glob(project_dir, source, "parquet"))
        return f"SELECT * FROM read_parquet({path}, union_by_name = true)"
    if source.kind is SourceKind.CSV:
        # Timestamps are read as instants (text with an offset is that instant, naive text
        # is UTC), then shown as the naive UTC time every other source has.
        types = ", ".join(
            f"{literal(column)}: {literal(CSV_TYPES.get(kind, DECLARED_TYPES[kind]))}"
            for column, kind in source.schema.items()
        )
        path = literal(source_glob(project_dir, source, "csv"))
        return (
            f"SELECT *{_as_naive_utc(source)} FROM "
            f"read_csv({path}, header = true, types = {{{types}}})"
        )
    if source.kind is SourceKind.DUCKDB:
        path, table = split_table(source)
        alias = attach(path)
        return f"SELECT * FROM {alias}.{'.'.join(quote(part) for part in table.split('.'))}"
    raise ValueError(f"{source.kind.value} sources are copied, not read in place")


def _as_naive_utc(source: Source) -> str:
    """A `REPLACE` clause showing the source's timestamp columns as naive UTC times."""
    times = [column for column, kind in source.schema.items() if kind is ColumnType.TIMESTAMP]
    if not times:
        return ""
    # timezone('UTC', …), not CAST(… AS TIMESTAMP): DuckDB 2.0 pushes that cast into
    # read_csv, which then parses the text as naive and drops its offset.
    casts = ", ".join(f"timezone('UTC', {quote(column)}) AS {quote(column)}" for column in times)
    return f" REPLACE ({casts})"


def attach_database(connection: duckdb.DuckDBPyConnection, project_dir: Path, path: str) -> str:
    """Attach the DuckDB file `path` read-only; its alias."""
    alias = "src_" + hashlib.sha256(path.encode()).hexdigest()[:10]
    full = resolved(project_dir, path)
    if not full.is_file():
        raise StorageUnavailable(f"DuckDB database {full} does not exist.")
    connection.execute(f"ATTACH {literal(str(full))} AS {alias} (READ_ONLY)")
    return alias


def copy_postgres(
    connection: duckdb.DuckDBPyConnection, source: Source, name: str, scratch: Path
) -> None:
    """The PostgreSQL table of `source` as the temporary table `name`, through a CSV file in
    `scratch`."""
    url, table = split_table(source)
    columns = list(source.schema)
    types = ", ".join(
        f"{literal(column)}: {literal(DECLARED_TYPES[source.schema[column]])}" for column in columns
    )
    with tempfile.TemporaryDirectory(prefix="pg-", dir=scratch) as folder:
        target = Path(folder) / f"{source.name}.csv"
        export_postgres(url, table, columns, target)
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM "
            f"read_csv({literal(str(target))}, header = true, types = {{{types}}})"
        )


def describe_source(
    connection: duckdb.DuckDBPyConnection,
    project_dir: Path,
    source: Source,
    attach: Callable[[str], str],
) -> dict[str, ColumnType | str]:
    """The columns the data of `source` really has, with Lucid's type for each (or DuckDB's
    name of a type Lucid does not support)."""
    if source.kind is SourceKind.POSTGRESQL:
        return describe_postgres(source)
    reader = reader_sql(project_dir, source, attach)
    if source.kind is SourceKind.CSV:
        path = source_glob(project_dir, source, "csv")
        query = f"DESCRIBE SELECT * FROM read_csv({literal(path)}, header = true)"
        header = {row[0] for row in _read(connection, query, source)}
        # Types are declared for CSV: a column is what the declaration makes of it, once
        # every value converts (checked by reading it).
        found: dict[str, ColumnType | str] = {
            column: kind for column, kind in source.schema.items() if column in header
        }
        _read(connection, f"SELECT COUNT(*) FROM ({reader})", source)
        return found
    rows = _read(connection, f"DESCRIBE {reader}", source)
    return {row[0]: found_type(row[1]) for row in rows}


def _read(connection: duckdb.DuckDBPyConnection, query: str, source: Source) -> list[Any]:
    """The rows of `query` over `source`; an unreadable source is an `InvalidInput`."""
    try:
        return connection.execute(query).fetchall()
    except duckdb.IOException as error:
        raise InvalidInput(
            f"source {source.name}.location",
            f"{source.location!r} cannot be read: {first_line(error)}",
        ) from None
    except duckdb.Error as error:
        raise InvalidInput(
            f"source {source.name}",
            f"its data cannot be read as declared: {first_line(error)}",
        ) from None


def file_view(connection: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """The Parquet or CSV file `path` as the view `name`, read once to check it; a file of
    another kind, or unreadable, is an `InvalidInput` naming `name`."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        reader = "read_parquet"
    elif suffix in (".csv", ".tsv", ".txt"):
        reader = "read_csv_auto"
    else:
        raise InvalidInput(name, f"file {path} must be .parquet or .csv")
    try:
        connection.execute(
            f"CREATE VIEW {quote(name)} AS SELECT * FROM {reader}({literal(str(path))})"
        )
        connection.execute(f"DESCRIBE {quote(name)}").fetchall()
    except duckdb.Error as error:
        connection.execute(f"DROP VIEW IF EXISTS {quote(name)}")
        raise InvalidInput(
            name, f"file {path} could not be read as {suffix}: {first_line(error)}"
        ) from None
