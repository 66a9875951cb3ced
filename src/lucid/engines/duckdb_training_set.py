"""A point-in-time training set computed by DuckDB, read from the confined connection that
computed it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from lucid.engines.relations import literal


class TrainingSet:
    """A point-in-time training set computed by DuckDB: the label rows in their order, each
    with the value of every requested feature as known at the label's time."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        sql: str,
        features: list[str],
        scratch: Path,
    ):
        """`scratch`: the one folder the (confined) connection may write to."""
        self._connection = connection
        self.sql = sql
        self.features = features
        self._scratch = scratch

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._connection.execute(self.sql).fetchall()

    @property
    def columns(self) -> list[str]:
        """The set's column names, read from the query's plan without running it."""
        return list(self._connection.sql(self.sql).columns)

    def to_dicts(self) -> list[dict[str, Any]]:
        cursor = self._connection.execute(self.sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def to_parquet(self, path: Path) -> int:
        """Write the set to a Parquet file; returns the number of rows. Written in the
        scratch folder, then moved to `path`."""
        with tempfile.TemporaryDirectory(prefix="set-", dir=self._scratch) as folder:
            written = Path(folder) / "training_set.parquet"
            self._connection.execute(
                f"COPY ({self.sql}) TO {literal(str(written))} (FORMAT parquet)"
            )
            [(count,)] = self._connection.execute(
                f"SELECT COUNT(*) FROM read_parquet({literal(str(written))})"
            ).fetchall()
            shutil.move(written, path)
        return int(count)
