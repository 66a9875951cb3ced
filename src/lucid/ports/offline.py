"""The port of offline compute: the engine behind training sets, feature values and drift."""

from __future__ import annotations

from typing import Any, Literal, Protocol

ColumnKind = Literal["numeric", "categorical"]
"""How drift statistics treat a column: binned and ordered (numeric) or counted (categorical)."""


class ComputeEngine(Protocol):
    """Offline compute as SQL: tables registered by name, queries returning plain rows.

    The drift SQL is generated in `lucid.monitoring.queries` for the engine's `dialect`; the
    engine only registers inputs and runs text. DuckDB is the embedded default; a Spark
    adapter implements the same four methods.
    """

    dialect: str

    def register(self, name: str, source: object) -> None:
        """Make `source` (a Parquet or CSV path, an Arrow table, a pandas DataFrame) queryable
        as `name`."""
        ...

    def columns(self, name: str) -> dict[str, ColumnKind]: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...
