"""The port of offline compute: the engine behind training sets, feature values and drift."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypeVar

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


T = TypeVar("T")


class DriftQueries(Protocol):
    """The SQL text of every drift query, in one engine's dialect.

    Every query receives an optional `where` filter (a segment, from `segment_filter`) and
    counts only usable values (numbers not NULL, NaN or ±inf; categories not NULL) unless it
    says otherwise. A stacked query returns the column's index in `columns` first.
    """

    def groups(self, columns: Sequence[T]) -> list[list[T]]:
        """`columns` in the groups one query of a step reads (all of them in one query on
        Spark, one per query on DuckDB)."""
        ...

    def segment_filter(self, column: str, value: str) -> str:
        """The filter of the rows whose segment column, read as text, equals `value`."""
        ...

    def segment_values(self, table: str, column: str) -> str:
        """The distinct non-NULL values of a segment column, as text, sorted."""
        ...

    def numeric_summaries(
        self, table: str, columns: Sequence[str], where: str | None = None
    ) -> str:
        """One row; per column: rows, usable rows, min, max, mean, population standard
        deviation, approximate distinct usable values."""
        ...

    def ranked_values(
        self, table: str, columns: Sequence[tuple[str, Sequence[int]]], where: str | None = None
    ) -> str:
        """Stacked rows (index, rank, v): per `(column, ranks)`, its usable values at those
        0-based ranks of its ascending order (exact, or from a quantile sketch within the
        rank error `lucid.engines.quantile_sketches` states)."""
        ...

    def value_counts(self, table: str, columns: Sequence[str], where: str | None = None) -> str:
        """Stacked rows (index, v, count): each distinct usable value of each column."""
        ...

    def bin_counts(
        self,
        table: str,
        columns: Sequence[tuple[str, Sequence[float]]],
        where: str | None = None,
    ) -> str:
        """One row; per `(column, edges)`: rows, usable rows, then per edge the usable rows
        strictly above it."""
        ...

    def category_counts(self, table: str, columns: Sequence[str], where: str | None = None) -> str:
        """Rows (grouping flag of each column, each column as text, count), one column at a
        time: the flag is 0 for the column a row counts."""
        ...

    def ecdf_distances(
        self,
        table: str,
        columns: Sequence[tuple[str, Sequence[tuple[float, float]]]],
        where: str | None = None,
    ) -> str:
        """Stacked rows (index, KS D, Wasserstein-1) against each column's reference given as
        (value, weight) points (the current side exact, or read from a quantile sketch)."""
        ...

    def classification_counts(
        self, table: str, label: str, score: str, cutoff: float, where: str | None = None
    ) -> str:
        """One row: labelled rows, true positives, false positives, false negatives, true
        negatives at `cutoff`."""
        ...

    def expected_accuracy(
        self, table: str, score: str, cutoff: float, where: str | None = None
    ) -> str:
        """One row: usable rows and the label-free (CBPE) expected accuracy."""
        ...

    def auc(self, table: str, score: str, label: str | None, where: str | None = None) -> str:
        """One row: the Mann-Whitney sum, the positive and the negative weights (label-free,
        weighted by the score, without `label`)."""
        ...

    def health_counts(
        self,
        table: str,
        numeric: Sequence[tuple[str, float | None, float | None]],
        categorical: Sequence[tuple[str, Sequence[str]]],
        where: str | None = None,
    ) -> str:
        """One row for a data-health check: rows; per `(column, min, max)` usable values and
        those outside [min, max]; per `(column, named)` usable rows, rows in no category of
        `named`, then the rows of each category of `named`."""
        ...

    def feature_rows(self, table: str, numeric: Sequence[str], categorical: Sequence[str]) -> str:
        """Every row of `table` in its order: `numeric` as DOUBLE (unusable values kept),
        then `categorical` as text (what the multivariate checks stream in batches)."""
        ...


class SourceQueries(Protocol):
    """The SQL text of a source's data health, in one engine's dialect (times are aware
    UTC datetimes, written as naive UTC literals)."""

    def counts(
        self,
        relation: str,
        event_time: str,
        window: tuple[datetime, datetime],
        trailing: Sequence[tuple[datetime, datetime]],
        columns: Sequence[tuple[str, bool]],
        ingestion_time: str | None = None,
    ) -> str:
        """One row: rows in the window, in each trailing window; the oldest and newest event
        time scanned; per `(column, numeric)` usable rows in the window and in the trailing
        windows; the mean ingestion lag in seconds."""
        ...

    def history(self, relation: str, event_time: str, since: datetime, before: datetime) -> str:
        """One row: the rows and the oldest event time in [since, before)."""
        ...

    def newest_event(
        self, relation: str, event_time: str, before: datetime, since: datetime | None = None
    ) -> str:
        """One row: the newest event time in [since, before)."""
        ...


class ComputeEngine(Protocol):
    """Offline compute as SQL: tables registered by name, queries returning plain rows.

    The engine gives the drift SQL in its own `dialect` (`drift_queries`), registers inputs
    and runs text. DuckDB is the embedded default; Spark implements the same methods.
    """

    dialect: str

    @property
    def drift_queries(self) -> DriftQueries:
        """The drift queries written for this engine."""
        ...

    def register(self, name: str, source: object) -> None:
        """Make `source` (a Parquet or CSV path, an Arrow table, a pandas DataFrame) queryable
        as `name`."""
        ...

    def columns(self, name: str) -> dict[str, ColumnKind]: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def batches(self, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
        """The result of `sql` as Arrow record batches of at most `rows` rows, in the result's
        order, each read when it is asked for (memory stays that of a batch)."""
        ...

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

    @property
    def source_queries(self) -> SourceQueries:
        """The source-health queries written for this engine."""
        ...

    def relation(self, source: Source) -> str:
        """The name of the relation (`source_<name>`) that reads `source`."""
        ...

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
