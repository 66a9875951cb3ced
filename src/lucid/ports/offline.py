"""The port of offline compute: the engine behind training sets, feature values and drift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.examples import GoldenExample
from lucid.contracts.semantic.sources import ColumnType, Source
from lucid.ports.online import OnlineStore

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]
    import pyarrow as pa

ColumnKind = Literal["numeric", "categorical"]
"""How drift statistics treat a column: binned and ordered (numeric) or counted (categorical)."""

Labels: TypeAlias = "str | Path | Sequence[Mapping[str, Any]] | pa.Table | pd.DataFrame"
"""Label rows as a training set takes them: a Parquet or CSV file, SDK rows, or a table in
memory (a pandas DataFrame, an Arrow table)."""


class ComputeEngine(Protocol):
    """Offline compute as SQL: tables registered by name, queries returning plain rows.

    The drift SQL is generated in `lucid.engines.drift_sql` for the engine's `dialect`; the
    engine only registers inputs and runs text. DuckDB is the embedded default; Spark
    implements the same methods.
    """

    dialect: str

    def register(self, name: str, source: object) -> None:
        """Make `source` (a Parquet or CSV path, an Arrow table, a pandas DataFrame) queryable
        as `name`."""
        ...

    def columns(self, name: str) -> dict[str, ColumnKind]: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


class TrainingSet(Protocol):
    """A point-in-time training set: the label rows in their order, each with the value of
    every requested feature as known at the label's time."""

    sql: str
    features: list[str]

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    @property
    def columns(self) -> list[str]: ...

    def to_dicts(self) -> list[dict[str, Any]]: ...

    def to_parquet(self, path: Path) -> int:
        """Write the set as Parquet; returns the number of rows."""
        ...


class Rows(Protocol):
    """Result rows read in batches, as from a DB-API cursor."""

    def fetchmany(self, size: int) -> list[Any]: ...


class OfflineEngine(ComputeEngine, Protocol):
    """Everything offline: the drift queries of `ComputeEngine`, and the feature store's
    sources, feature values, latest values and training sets. DuckDB and Spark implement it."""

    def describe(self, source: Source) -> dict[str, ColumnType | str]:
        """The columns the data really has, with Lucid's type for each (or the engine's name
        of a type Lucid does not support)."""
        ...

    def compute(
        self,
        definition: FeatureDefinition,
        sources: Mapping[str, Source],
        spine: Sequence[tuple[Any, datetime]],
        *,
        as_known_at: bool = False,
    ) -> dict[tuple[Any, datetime], Any]:
        """The feature's value for each (entity id, as-of time) of `spine`."""
        ...

    def latest_values(
        self,
        definition: FeatureDefinition,
        sources: Mapping[str, Source],
        at: datetime,
        *,
        keys: Source | None = None,
    ) -> Rows:
        """(entity_id, as_of, value, data_time) rows as known at `at` (what materialisation
        writes online), for every entity the feature's sources know, or with `keys` exactly
        those that listing source holds at `at`."""
        ...

    def training_set(
        self,
        labels: Labels,
        features: Sequence[FeatureDefinition],
        sources: Mapping[str, Source],
        *,
        entity_column: str,
        time_column: str,
    ) -> TrainingSet:
        """Every label row with each feature as known at its time."""
        ...


class FeatureCompiler(Protocol):
    """Definitions as SQL, whatever the configured engine: the check of a definition against
    its sources, the query a training set runs on each dialect, and golden examples run in
    isolation (offline on the example's own events, and through a scratch online store)."""

    dialects: tuple[str, ...]

    def check(self, definition: FeatureDefinition, sources: Mapping[str, Source]) -> None:
        """Refuse a definition that names a source, entity or column its sources do not have,
        or whose SQL aggregate is not one aggregate over its source's columns."""
        ...

    def training_sql(
        self, definition: FeatureDefinition, sources: Mapping[str, Source], *, dialect: str
    ) -> str:
        """The query a training set runs for `definition` on the engine of `dialect`, over the
        relation `spine(__lucid_entity, __lucid_as_of)` and the views `source_<name>`."""
        ...

    def run_example(
        self, definition: FeatureDefinition, sources: Mapping[str, Source], example: GoldenExample
    ) -> object:
        """The value the definition computes for the example, over the example's own rows."""
        ...

    def scratch_store(self) -> AbstractContextManager[OnlineStore]:
        """An empty online store, removed when the block ends."""
        ...
