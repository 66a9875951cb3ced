"""DuckDB, the embedded compute engine: Parquet, CSV, Arrow and pandas inputs queried by SQL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import duckdb

from lucid.errors import InvalidInput
from lucid.ports import ColumnKind

_NUMERIC_TYPES = (
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


class DuckDBEngine:
    """One in-process DuckDB connection. `memory_limit` (e.g. "512MB") caps its buffer pool."""

    dialect = "duckdb"

    def __init__(self, *, memory_limit: str | None = None, threads: int | None = None) -> None:
        self._connection = duckdb.connect(":memory:")
        if memory_limit is not None:
            self._connection.execute(f"SET memory_limit = '{memory_limit}'")
        if threads is not None:
            self._connection.execute(f"SET threads = {int(threads)}")
        self._views: set[str] = set()

    def register(self, name: str, source: object) -> None:
        """Register a Parquet/CSV path, an Arrow table or a pandas DataFrame as view `name`.

        A missing file or an unreadable one is an `InvalidInput` naming the table.
        """
        if name in self._views:
            self._connection.execute(f'DROP VIEW IF EXISTS "{name}"')
            self._views.discard(name)
        with contextlib.suppress(duckdb.Error):
            self._connection.unregister(name)
        if isinstance(source, str | Path):
            path = Path(source)
            if not path.is_file():
                raise InvalidInput(name, f"file {path} does not exist")
            suffix = path.suffix.lower()
            if suffix == ".parquet":
                reader = "read_parquet"
            elif suffix in (".csv", ".tsv", ".txt"):
                reader = "read_csv_auto"
            else:
                raise InvalidInput(name, f"file {path} must be .parquet or .csv")
            literal = str(path).replace("'", "''")
            try:
                self._connection.execute(
                    f"CREATE VIEW \"{name}\" AS SELECT * FROM {reader}('{literal}')"
                )
                self._connection.execute(f'DESCRIBE "{name}"').fetchall()
            except duckdb.Error as error:
                self._connection.execute(f'DROP VIEW IF EXISTS "{name}"')
                first = str(error).strip().splitlines()[0]
                raise InvalidInput(
                    name, f"file {path} could not be read as {suffix}: {first}"
                ) from None
            self._views.add(name)
            return
        self._connection.register(name, source)

    def columns(self, name: str) -> dict[str, ColumnKind]:
        """Each column of `name` and whether drift treats it as numeric or categorical.

        Booleans, text, dates and everything not a number are categorical.
        """
        rows = self._connection.execute(f'DESCRIBE "{name}"').fetchall()
        kinds: dict[str, ColumnKind] = {}
        for row in rows:
            column, column_type = str(row[0]), str(row[1]).upper()
            numeric = column_type.startswith(_NUMERIC_TYPES)
            kinds[column] = "numeric" if numeric else "categorical"
        return kinds

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql).fetchall()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
