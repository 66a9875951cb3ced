"""Apache Spark as the offline engine: the same feature SQL as DuckDB, in Spark's dialect.

Sources are registered as temporary views `source_<name>` read from Parquet or CSV (with the
declared schema); the query is `feature_sql(...)` turned into Spark SQL by `to_dialect`, with
snapshot terms as a UNION ALL of spine and event rows and a running `last(value, true)` (Spark
has no ASOF JOIN). Only file sources run here: DuckDB and PostgreSQL tables belong to the
embedded engine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lucid.contracts.semantic import ColumnType, FeatureDefinition, Source, SourceKind
from lucid.contracts.times import not_a_time, to_naive_utc
from lucid.engines.dialects import SPARK, to_dialect
from lucid.engines.drift_sql import DialectQueries
from lucid.engines.feature_sql import feature_sql
from lucid.engines.labels import is_label_frame, label_frame_rows, naive_utc
from lucid.engines.relations import SPINE_AS_OF, SPINE_ENTITY, view_name
from lucid.engines.source_sql import SourceQueries
from lucid.engines.spines import LABEL_ROW, entity_spine_sql, training_set_sql
from lucid.errors import InvalidInput
from lucid.extras import require
from lucid.ports.offline import ColumnKind, Labels
from lucid.ports.window_scan import WindowScan

if TYPE_CHECKING:
    import pyarrow as pa

_SPARK_TYPES = {
    ColumnType.STRING: "STRING",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DOUBLE: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.TIMESTAMP: "TIMESTAMP_NTZ",
    ColumnType.DATE: "DATE",
}


_CSV_TYPES = {ColumnType.TIMESTAMP: "TIMESTAMP_LTZ"}


def spark_session(master: str, driver_memory: str = "4g") -> Any:
    """A quiet, local-friendly Spark session in UTC (few shuffle partitions, no UI); in local
    mode the driver does the work, so it gets `driver_memory`."""
    require("pyspark", "spark", "engine: spark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("lucid")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Computes features with Spark SQL over the project's Parquet/CSV sources."""

    dialect = "spark"
    drift_queries = DialectQueries(SPARK)
    source_queries = SourceQueries(SPARK)

    def __init__(self, project_dir: Path, session: Any) -> None:
        self.project_dir = project_dir
        self.session = session
        self._views: set[str] = set()

    def close(self) -> None:
        """The session is shared by the process; it is stopped by whoever created it."""

    def relation(self, source: Source) -> str:
        name = view_name(source)
        if name not in self._views:
            frame = self._read(source)
            frame.createOrReplaceTempView(name)
            self._views.add(name)
        return name

    def describe(self, source: Source) -> dict[str, ColumnType | str]:
        """The columns the data really has, with Lucid's type for each (or Spark's name of a
        type Lucid does not support)."""
        try:
            fields = self._read(source).schema.fields
        except InvalidInput:
            raise
        except Exception as error:  # Spark's AnalysisException: path missing, bad file
            first = str(error).strip().splitlines()[0]
            raise InvalidInput(
                f"source {source.name}.location", f"{source.location!r} cannot be read: {first}"
            ) from None
        return {
            field.name: _column_type(field.dataType.typeName()) or field.dataType.simpleString()
            for field in fields
        }

    def latest_values(
        self,
        definition: FeatureDefinition,
        sources: Mapping[str, Source],
        at: datetime,
        *,
        keys: Source | None = None,
    ) -> Any:
        """(entity_id, as_of, value, data_time) as known at `at` for every entity the feature's
        sources know, or with `keys` exactly those its listing source holds at `at`, with a
        `fetchmany` like a DB-API cursor (what materialisation reads)."""
        spine = entity_spine_sql(definition, sources, self.relation, naive_utc(at), keys)
        self.session.sql(to_dialect(spine, self.dialect)).createOrReplaceTempView(
            "lucid_materialise_spine"
        )
        query = feature_sql(
            definition,
            sources,
            "lucid_materialise_spine",
            self.relation,
            as_known_at=True,
            asof_join=False,
        )
        return _Rows(self.session.sql(to_dialect(query, self.dialect)).toLocalIterator())

    # --- named inputs (monitoring: lucid.ports.offline.ComputeEngine) ---------------------

    def register(self, name: str, source: object) -> None:
        """Make a Parquet/CSV path, a pandas DataFrame or Arrow table queryable as `name`
        (a `WindowScan` as the Arrow table it materializes)."""
        if isinstance(source, WindowScan):
            source = source.materialize()
        if isinstance(source, str | Path):
            path = Path(source)
            if not path.exists():
                raise InvalidInput(name, f"file {path} does not exist")
            reader = self.session.read
            frame = (
                reader.csv(str(path), header=True, inferSchema=True)
                if path.suffix.lower() == ".csv"
                else reader.parquet(str(path))
            )
        else:
            to_pandas = getattr(source, "to_pandas", None)
            frame = self.session.createDataFrame(to_pandas() if to_pandas else source)
        frame.createOrReplaceTempView(name)

    def columns(self, name: str) -> dict[str, ColumnKind]:
        """Each column of `name`: numeric (integral, fractional, decimal) or categorical."""
        from pyspark.sql.types import NumericType

        fields = self.session.table(name).schema.fields
        return {
            field.name: "numeric" if isinstance(field.dataType, NumericType) else "categorical"
            for field in fields
        }

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run SQL written for DuckDB (the drift queries of `lucid.engines.drift_sql`) in
        Spark's dialect."""
        return [tuple(row) for row in self.session.sql(to_dialect(sql, self.dialect)).collect()]

    def batches(self, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
        """The result of `sql` (DuckDB's dialect, like `query`) as Arrow record batches of at
        most `rows` rows, in the rows' order: Spark writes it as plain Parquet (no compression,
        no dictionaries: a third less CPU) to a
        temporary folder (columnar, in the JVM, one file per partition), read back one batch
        at a time and deleted when the iteration ends."""
        import pyarrow.parquet as pq

        frame = self.session.sql(to_dialect(sql, self.dialect))
        with tempfile.TemporaryDirectory(prefix="lucid-spark-batches-") as folder:
            written = Path(folder) / "rows"
            options = {"compression": "none", "parquet.enable.dictionary": "false"}
            frame.write.options(**options).parquet(str(written))
            for part in sorted(written.glob("part-*.parquet")):  # by partition number
                yield from pq.ParquetFile(part).iter_batches(batch_size=rows)

    def load_rows(self, source: Source, rows: Sequence[Mapping[str, Any]]) -> None:
        """Serve `source` from the given rows (golden examples), typed by its schema."""
        columns = list(source.schema)
        ddl = ", ".join(f"`{c}` {_SPARK_TYPES[source.schema[c]]}" for c in columns)
        values = [
            tuple(_spark_value(row.get(c), source.schema[c]) for c in columns) for row in rows
        ]
        self.session.createDataFrame(values, ddl).createOrReplaceTempView(view_name(source))
        self._views.add(view_name(source))

    def _read(self, source: Source) -> Any:
        location = Path(source.location)
        path = str(location if location.is_absolute() else self.project_dir / location)
        if source.kind is SourceKind.PARQUET:
            frame = self.session.read.option("recursiveFileLookup", "true").parquet(path)
            return _naive_utc_columns(frame)
        if source.kind is SourceKind.CSV:
            # Timestamps are read as instants (an offset is honoured, naive text is UTC: the
            # session's zone); as TIMESTAMP_NTZ Spark reads a value with an offset as NULL.
            schema = ", ".join(
                f"`{column}` {_CSV_TYPES.get(kind, _SPARK_TYPES[kind])}"
                for column, kind in source.schema.items()
            )
            return _naive_utc_columns(self.session.read.csv(path, header=True, schema=schema))
        raise InvalidInput(
            f"source {source.name}.kind",
            f"{source.kind.value} sources run on the embedded DuckDB engine, not on Spark",
        )

    def compute(
        self,
        definition: FeatureDefinition,
        sources: Mapping[str, Source],
        spine: Sequence[tuple[Any, datetime]],
        *,
        as_known_at: bool = False,
    ) -> dict[tuple[Any, datetime], Any]:
        """The feature's value for each (entity id, as-of time) of `spine` (NULL when stale
        under the definition's TTL)."""
        from pyspark.sql.types import StringType, StructField, StructType, TimestampNTZType

        schema = StructType(
            [
                StructField(SPINE_ENTITY, StringType()),
                StructField(SPINE_AS_OF, TimestampNTZType()),
            ]
        )
        rows = [(str(entity), naive_utc(moment)) for entity, moment in spine]
        self.session.createDataFrame(rows, schema).createOrReplaceTempView("lucid_spine")
        query = feature_sql(
            definition,
            sources,
            "lucid_spine",
            self.relation,
            as_known_at=as_known_at,
            asof_join=False,
        )
        result = self.session.sql(to_dialect(query, self.dialect)).collect()
        return {(row[0], row[1]): row[2] for row in result}

    def training_set(
        self,
        labels: Labels,
        features: Sequence[FeatureDefinition],
        sources: Mapping[str, Source],
        *,
        entity_column: str,
        time_column: str,
    ) -> SparkTrainingSet:
        """Every label row with each feature as known at its time (see DuckDB's)."""
        from pyspark.sql.functions import monotonically_increasing_id

        frame = self._labels(labels, time_column)
        frame = frame.withColumn(LABEL_ROW, monotonically_increasing_id())
        frame = _label_time_in_utc(frame, time_column)
        frame.createOrReplaceTempView("lucid_labels")
        spine_sql, sql = training_set_sql(
            features,
            sources,
            self.relation,
            labels="lucid_labels",
            label_columns=list(frame.columns),
            entity_column=entity_column,
            time_column=time_column,
            spine="lucid_label_spine",
            dialect=self.dialect,
        )
        self.session.sql(to_dialect(spine_sql, self.dialect)).createOrReplaceTempView(
            "lucid_label_spine"
        )
        names = [definition.name for definition in features]
        return SparkTrainingSet(self.session, to_dialect(sql, self.dialect), names)

    def _labels(self, labels: Labels, time_column: str) -> Any:
        """The label rows as a DataFrame; SDK rows' times already in naive UTC."""
        if isinstance(labels, str | Path):
            path = Path(labels)
            if not path.exists():
                raise InvalidInput("labels", f"{path} does not exist")
            reader = self.session.read
            if path.suffix.lower() == ".csv":
                return reader.csv(str(path), header=True, inferSchema=True)
            return reader.parquet(str(path))
        if is_label_frame(labels):
            labels = label_frame_rows(labels)
        if not labels:
            raise InvalidInput("labels", "must hold at least one row")
        columns, field = list(labels[0]), f"labels.{time_column}"
        rows = [
            tuple(
                to_naive_utc(row[c], field) if c == time_column else _naive(row[c]) for c in columns
            )
            for row in labels
        ]
        return self.session.createDataFrame(rows, columns)


class _Rows:
    """Spark rows with a DB-API `fetchmany`."""

    def __init__(self, rows: Any) -> None:
        self._rows = rows

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        batch = []
        for row in self._rows:
            batch.append(tuple(row))
            if len(batch) >= size:
                break
        return batch


def _column_type(name: str) -> ColumnType | None:
    return {
        "string": ColumnType.STRING,
        "long": ColumnType.INTEGER,
        "integer": ColumnType.INTEGER,
        "short": ColumnType.INTEGER,
        "byte": ColumnType.INTEGER,
        "double": ColumnType.DOUBLE,
        "float": ColumnType.DOUBLE,
        "decimal": ColumnType.DOUBLE,
        "boolean": ColumnType.BOOLEAN,
        "timestamp": ColumnType.TIMESTAMP,
        "timestamp_ntz": ColumnType.TIMESTAMP,
        "date": ColumnType.DATE,
    }.get(name)


class SparkTrainingSet:
    """A point-in-time training set computed by Spark (the same rows as DuckDB's)."""

    def __init__(self, session: Any, sql: str, features: list[str]) -> None:
        self._session = session
        self.sql = sql
        self.features = features

    def _frame(self) -> Any:
        return self._session.sql(self.sql)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._frame().collect()]

    @property
    def columns(self) -> list[str]:
        return list(self._frame().columns)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [row.asDict() for row in self._frame().collect()]

    def to_parquet(self, path: Path) -> int:
        """Write the set as a Parquet folder; returns the number of rows."""
        self._frame().write.mode("overwrite").parquet(str(path))
        # Count what was written (Parquet footers), not the query: a second run of it.
        return int(self._session.read.parquet(str(path)).count())


def _naive_utc_columns(frame: Any) -> Any:
    """`frame` with its aware timestamp columns as naive UTC times (the session is in UTC):
    compared with the spine and returned to Python without any machine's local zone."""
    fields = frame.schema.fields
    aware = [field.name for field in fields if field.dataType.typeName() == "timestamp"]
    if not aware:
        return frame
    return frame.withColumns({name: frame[f"`{name}`"].cast("timestamp_ntz") for name in aware})


def _label_time_in_utc(frame: Any, column: str) -> Any:
    """`frame` with the labels' time column as naive UTC times, or the refusal of its first
    value that is not a time (text that does not parse, a NULL, a number), as on DuckDB."""
    from pyspark.sql.functions import expr, lit

    if column not in frame.columns:
        return frame  # training_set_sql names the missing column
    kind, name = frame.schema[column].dataType.typeName(), f"`{column}`"
    if kind == "string":  # as an instant: the offset is honoured, naive text is UTC
        converted = expr(f"try_cast({name} AS TIMESTAMP_LTZ)").cast("timestamp_ntz")
    elif kind in ("timestamp", "timestamp_ntz", "date"):
        converted = frame[name].cast("timestamp_ntz")
    else:
        converted = lit(None).cast("timestamp_ntz")
    bad = (
        frame.where(converted.isNull())
        .orderBy(frame[name].isNull(), LABEL_ROW)
        .select(name)
        .limit(1)
        .collect()
    )
    if bad:
        found = _column_type(kind)
        word = "text" if kind == "string" else found.value if found else kind
        raise not_a_time(f"labels.{column}", bad[0][0], word)
    return frame.withColumn(column, converted)


def _naive(value: Any) -> Any:
    return naive_utc(value) if isinstance(value, datetime) else value


def _spark_value(value: Any, kind: ColumnType) -> Any:
    if value is not None and kind is ColumnType.TIMESTAMP:
        return to_naive_utc(value, "time")
    if value is not None and kind is ColumnType.DOUBLE:
        return float(value)
    return value
