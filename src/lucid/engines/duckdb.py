"""The embedded compute engine: DuckDB over the project's Parquet/CSV files and tables.

Two kinds of callers share it: the feature store (sources as views, feature SQL over a spine)
and monitoring (inputs registered by name — Parquet, CSV, Arrow, pandas — queried by SQL).

Sources become SQL relations here: Parquet and CSV through `read_parquet`/`read_csv`, DuckDB
tables through a read-only ATTACH, PostgreSQL tables copied once per engine into a temporary
table (DuckDB's postgres extension would have to be downloaded at run time, which a closed
network refuses). Every session runs in UTC.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lucid.contracts.semantic import ColumnType, FeatureDefinition, Source, SourceKind
from lucid.contracts.times import not_a_time, to_naive_utc
from lucid.engines.feature_sql import (
    LABEL_ROW,
    SPINE_AS_OF,
    SPINE_ENTITY,
    entity_spine_sql,
    feature_sql,
    literal,
    quote,
    training_set_sql,
    view_name,
)
from lucid.errors import InvalidInput, StorageUnavailable
from lucid.ports.offline import ColumnKind, Labels

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
_CSV_TYPES = {ColumnType.TIMESTAMP: "TIMESTAMPTZ"}
DECLARED_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DOUBLE: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
}


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


def column_type(duckdb_type: str) -> ColumnType | None:
    """Lucid's type for a DuckDB type name (DECIMAL counts as double), or None."""
    if duckdb_type.startswith("DECIMAL"):
        return ColumnType.DOUBLE
    return _DUCKDB_TYPES.get(duckdb_type)


def _found_type(duckdb_type: str) -> ColumnType | str:
    """Lucid's type for a DuckDB type name, or the name itself when Lucid has none."""
    return column_type(duckdb_type) or duckdb_type


def _type_word(duckdb_type: str) -> str:
    """How a refusal names a column's type: Lucid's word for it, else DuckDB's name."""
    if duckdb_type == "VARCHAR":
        return "text"
    found = column_type(duckdb_type)
    return found.value if found else duckdb_type.lower()


_TIME_TYPES = frozenset(
    name for name, kind in _DUCKDB_TYPES.items() if kind in (ColumnType.TIMESTAMP, ColumnType.DATE)
)


class DuckDBEngine:
    """Runs feature SQL on DuckDB; `project_dir` anchors relative source locations."""

    dialect = "duckdb"

    def __init__(
        self,
        project_dir: Path | None = None,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
        spill_directory: Path | None = None,
    ) -> None:
        """`project_dir` anchors relative source locations (default: the current folder);
        `memory_limit` (e.g. "512MB") caps DuckDB's buffer pool; what does not fit spills to
        `spill_directory` (DuckDB's default: `.tmp` in the current folder)."""
        self.project_dir = project_dir or Path.cwd()
        self.connection = duckdb.connect(":memory:")
        self.connection.execute("SET TimeZone = 'UTC'")
        if memory_limit is not None:
            self.connection.execute(f"SET memory_limit = {literal(memory_limit)}")
        if spill_directory is not None:
            self.connection.execute(f"SET temp_directory = {literal(str(spill_directory))}")
        if threads is not None:
            self.connection.execute(f"SET threads = {int(threads)}")
        self._attached: dict[str, str] = {}
        self._views: set[str] = set()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- named inputs (monitoring) ---------------------------------------------------------

    def register(self, name: str, source: object) -> None:
        """Register a Parquet/CSV path, an Arrow table or a pandas DataFrame as view `name`.

        A missing file or an unreadable one is an `InvalidInput` naming the table.
        """
        if name in self._views:
            self.connection.execute(f"DROP VIEW IF EXISTS {quote(name)}")
            self._views.discard(name)
        with contextlib.suppress(duckdb.Error):
            self.connection.unregister(name)
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
            try:
                self.connection.execute(
                    f"CREATE VIEW {quote(name)} AS SELECT * FROM {reader}({literal(str(path))})"
                )
                self.connection.execute(f"DESCRIBE {quote(name)}").fetchall()
            except duckdb.Error as error:
                self.connection.execute(f"DROP VIEW IF EXISTS {quote(name)}")
                raise InvalidInput(
                    name, f"file {path} could not be read as {suffix}: {_first_line(error)}"
                ) from None
            self._views.add(name)
            return
        self.connection.register(name, source)

    def columns(self, name: str) -> dict[str, ColumnKind]:
        """Each column of `name` and whether drift treats it as numeric or categorical.

        Booleans, text, dates and everything not a number are categorical.
        """
        rows = self.connection.execute(f"DESCRIBE {quote(name)}").fetchall()
        kinds: dict[str, ColumnKind] = {}
        for row in rows:
            column, column_type = str(row[0]), str(row[1]).upper()
            numeric = column_type.startswith(_NUMERIC_TYPES)
            kinds[column] = "numeric" if numeric else "categorical"
        return kinds

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql).fetchall()

    # --- sources ---------------------------------------------------------------------------

    def relation(self, source: Source) -> str:
        """The name of a view (or table) `source_<name>` that reads `source`.

        Feature SQL only ever names these views, so the same query text runs on every engine
        that registers them.
        """
        name = view_name(source)
        if name not in self._views:
            if source.kind is SourceKind.POSTGRESQL:
                self._copy_postgres(source, name)
            else:
                self.connection.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS {self._reader(source)}"
                )
            self._views.add(name)
        return name

    def mark_loaded(self, name: str) -> None:
        """Use the relation `name` the caller created itself (golden examples, tests)."""
        self._views.add(name)

    def _reader(self, source: Source) -> str:
        if source.kind is SourceKind.PARQUET:
            path = literal(self._glob(source, "parquet"))
            return f"SELECT * FROM read_parquet({path}, union_by_name = true)"
        if source.kind is SourceKind.CSV:
            # Timestamps are read as instants (text with an offset is that instant, naive text
            # is UTC), then shown as the naive UTC time every other source has.
            types = ", ".join(
                f"{literal(column)}: {literal(_CSV_TYPES.get(kind, DECLARED_TYPES[kind]))}"
                for column, kind in source.schema.items()
            )
            path = literal(self._glob(source, "csv"))
            return (
                f"SELECT *{_as_naive_utc(source)} FROM "
                f"read_csv({path}, header = true, types = {{{types}}})"
            )
        if source.kind is SourceKind.DUCKDB:
            path, table = _split_table(source)
            alias = self._attach(path)
            return f"SELECT * FROM {alias}.{'.'.join(quote(part) for part in table.split('.'))}"
        raise ValueError(f"{source.kind.value} sources are copied, not read in place")

    def describe(self, source: Source) -> dict[str, ColumnType | str]:
        """The columns the data really has, with Lucid's type for each (or DuckDB's name of
        a type Lucid does not support)."""
        if source.kind is SourceKind.POSTGRESQL:
            return _describe_postgres(source)
        if source.kind is SourceKind.CSV:
            path = self._glob(source, "csv")
            query = f"DESCRIBE SELECT * FROM read_csv({literal(path)}, header = true)"
            rows = self._run(query, source)
            header = {row[0] for row in rows}
            # Types are declared for CSV: a column is what the declaration makes of it, once
            # every value converts (checked by reading it).
            found: dict[str, ColumnType | str] = {
                column: kind for column, kind in source.schema.items() if column in header
            }
            self._run(f"SELECT COUNT(*) FROM ({self._reader(source)})", source)
            return found
        rows = self._run(f"DESCRIBE {self._reader(source)}", source)
        return {row[0]: _found_type(row[1]) for row in rows}

    def _glob(self, source: Source, extension: str) -> str:
        location = Path(source.location)
        path = location if location.is_absolute() else self.project_dir / location
        if path.is_dir():
            return str(path / "**" / f"*.{extension}")
        return str(path)

    def _attach(self, path: str) -> str:
        if path not in self._attached:
            alias = "src_" + hashlib.sha256(path.encode()).hexdigest()[:10]
            full = Path(path) if Path(path).is_absolute() else self.project_dir / path
            if not full.is_file():
                raise StorageUnavailable(f"DuckDB database {full} does not exist.")
            self.connection.execute(f"ATTACH {literal(str(full))} AS {alias} (READ_ONLY)")
            self._attached[path] = alias
        return self._attached[path]

    def _copy_postgres(self, source: Source, name: str) -> None:
        url, table = _split_table(source)
        columns = list(source.schema)
        types = ", ".join(
            f"{literal(column)}: {literal(DECLARED_TYPES[source.schema[column]])}"
            for column in columns
        )
        with tempfile.TemporaryDirectory(prefix="lucid-pg-") as folder:
            target = Path(folder) / f"{source.name}.csv"
            _export_postgres(url, table, columns, target)
            self.connection.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM "
                f"read_csv({literal(str(target))}, header = true, types = {{{types}}})"
            )

    def _run(self, query: str, source: Source) -> list[Any]:
        try:
            return self.connection.execute(query).fetchall()
        except duckdb.IOException as error:
            raise InvalidInput(
                f"source {source.name}.location",
                f"{source.location!r} cannot be read: {_first_line(error)}",
            ) from None
        except duckdb.Error as error:
            raise InvalidInput(
                f"source {source.name}",
                f"its data cannot be read as declared: {_first_line(error)}",
            ) from None

    # --- features --------------------------------------------------------------------------

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
        # Handed over as one Arrow table: row-by-row inserts cost ~50 µs a row.
        spine_rows = pa.table(
            {
                SPINE_ENTITY: pa.array([str(entity) for entity, _ in spine], pa.string()),
                SPINE_AS_OF: pa.array(
                    [_naive_utc(moment) for _, moment in spine], pa.timestamp("us")
                ),
            }
        )
        self.connection.register("__lucid_spine_rows", spine_rows)
        try:
            self.connection.execute(
                f"CREATE OR REPLACE TEMP TABLE __lucid_spine AS SELECT {SPINE_ENTITY}, "
                f"{SPINE_AS_OF} FROM __lucid_spine_rows"
            )
        finally:
            self.connection.unregister("__lucid_spine_rows")
        query = feature_sql(
            definition, sources, "__lucid_spine", self.relation, as_known_at=as_known_at
        )
        rows = self.connection.execute(query).fetchall()
        return {(entity, as_of): value for entity, as_of, value, _ in rows}

    def training_set(
        self,
        labels: Labels,
        features: Sequence[FeatureDefinition],
        sources: Mapping[str, Source],
        *,
        entity_column: str,
        time_column: str,
    ) -> TrainingSet:
        """Every label row (duplicates kept, order kept) with each feature as known at its
        time: events after the label time, or ingested after it, never count."""
        self._load_labels(labels, time_column)
        columns = [row[0] for row in self.connection.execute("DESCRIBE __lucid_labels").fetchall()]
        spine_sql, sql = training_set_sql(
            features,
            sources,
            self.relation,
            labels="__lucid_labels",
            label_columns=columns,
            entity_column=entity_column,
            time_column=time_column,
            spine="__lucid_label_spine",
        )
        _spine_view(self.connection, "__lucid_label_spine", spine_sql)
        return TrainingSet(self.connection, sql, [definition.name for definition in features])

    def _load_labels(self, labels: Labels, time_column: str) -> None:
        """The label rows as table `__lucid_labels`, numbered in order (`__lucid_row`), with
        the time column as naive UTC times under Lucid's time rule (`lucid.contracts.times`):
        a value that is not a time is refused and nothing is computed."""
        if isinstance(labels, str | Path):
            path = Path(labels)
            if not path.exists():
                raise InvalidInput("labels", f"{path} does not exist")
            self._load_label_relation(*self._label_relation(path, time_column), time_column)
            return
        if is_label_frame(labels):
            if len(labels) == 0:
                raise InvalidInput("labels", "must hold at least one row")
            self.connection.register("__lucid_label_frame", labels)
            kinds = self._label_kinds("__lucid_label_frame", "the label table")
            relation = "__lucid_label_frame"
            self._load_label_relation(relation, kinds.get(time_column), time_column)
            return
        if not labels:
            raise InvalidInput("labels", "must hold at least one row")
        columns = list(labels[0])
        for number, row in enumerate(labels):
            if list(row) != columns:
                raise InvalidInput(f"labels[{number}]", f"must have the columns {columns}")
        placeholders = "(" + ", ".join("?" * (len(columns) + 1)) + ")"
        values = ", ".join([placeholders] * len(labels))
        names = ", ".join([*map(quote, columns), "__lucid_row"])
        field = f"labels.{time_column}"
        parameters = [
            value
            for number, row in enumerate(labels, start=1)
            for value in (
                *(
                    to_naive_utc(row[c], field) if c == time_column else _naive_if_time(row[c])
                    for c in columns
                ),
                number,
            )
        ]
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE __lucid_labels AS SELECT * FROM (VALUES {values}) "
            f"v({names})",
            parameters,
        )

    def _load_label_relation(self, relation: str, kind: str | None, time_column: str) -> None:
        """A label file or table (`relation`, whose time column has DuckDB type `kind`) as
        `__lucid_labels`, its time column converted in the same pass (the given value kept
        aside until every row is checked), or refused at its first value that is not a time
        (text that does not parse, a NULL, a number)."""
        name, given = quote(time_column), "__lucid_given_time"
        converted = _utc_time_sql(name, kind) if kind is not None else None
        replace = f" REPLACE ({converted} AS {name}), {name} AS {given}" if converted else ""
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE __lucid_labels AS SELECT *{replace}, "
            f"row_number() OVER () AS {LABEL_ROW} FROM {relation}"
        )
        if kind is None:
            return  # training_set_sql names the missing column
        shown = given if converted else name
        bad = self.connection.execute(
            f"SELECT {shown} FROM __lucid_labels WHERE {name} IS NULL "
            f"ORDER BY {shown} IS NULL, {LABEL_ROW} LIMIT 1"
        ).fetchall()
        if bad:
            raise not_a_time(f"labels.{time_column}", bad[0][0], _type_word(kind))
        if converted:
            self.connection.execute(f"ALTER TABLE __lucid_labels DROP COLUMN {given}")

    def _label_relation(self, path: Path, time_column: str) -> tuple[str, str | None]:
        """The SQL relation reading a label file, and the DuckDB type of its time column (None
        when it has none). A CSV's time column is read as text, so that the time rule, not
        the CSV sniffer's guess from the first 20,480 rows, reads every value."""
        name = literal(str(path))
        csv = path.suffix.lower() == ".csv"
        relation = f"read_csv({name}, header = true)" if csv else f"read_parquet({name})"
        kinds = self._label_kinds(relation, str(path))
        if time_column not in kinds:
            return relation, None
        if not csv:
            return relation, kinds[time_column]
        types = f"{{{literal(time_column)}: 'VARCHAR'}}"
        return f"read_csv({name}, header = true, types = {types})", "VARCHAR"

    def _label_kinds(self, relation: str, shown: str) -> dict[str, str]:
        """Each column of a label relation and its DuckDB type; refused when it cannot be read."""
        try:
            rows = self.connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except duckdb.Error as error:
            raise InvalidInput("labels", f"{shown} cannot be read: {_first_line(error)}") from None
        return {str(row[0]): str(row[1]) for row in rows}

    def latest_values(
        self,
        definition: FeatureDefinition,
        sources: Mapping[str, Source],
        at: datetime,
        *,
        keys: Source | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """A cursor over (entity_id, as_of, value, data_time) computed as known at `at` (what
        materialisation writes online), for every entity any of the feature's sources knows,
        or with `keys` exactly the entities that listing source holds at `at`."""
        spine = entity_spine_sql(definition, sources, self.relation, _naive_utc(at), keys)
        _spine_view(self.connection, "__lucid_materialise_spine", spine)
        query = feature_sql(
            definition, sources, "__lucid_materialise_spine", self.relation, as_known_at=True
        )
        return self.connection.execute(query)


class TrainingSet:
    """A point-in-time training set computed by DuckDB: the label rows in their order, each
    with the value of every requested feature as known at the label's time."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, sql: str, features: list[str]):
        self._connection = connection
        self.sql = sql
        self.features = features

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._connection.execute(self.sql).fetchall()

    @property
    def columns(self) -> list[str]:
        return [column[0] for column in self._connection.execute(self.sql).description]

    def to_dicts(self) -> list[dict[str, Any]]:
        cursor = self._connection.execute(self.sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def to_parquet(self, path: Path) -> int:
        """Write the set to a Parquet file; returns the number of rows."""
        self._connection.execute(f"COPY ({self.sql}) TO {literal(str(path))} (FORMAT parquet)")
        [(count,)] = self._connection.execute(
            f"SELECT COUNT(*) FROM read_parquet({literal(str(path))})"
        ).fetchall()
        return int(count)


def is_label_frame(labels: object) -> bool:
    """Whether `labels` is a table given in memory: a pandas DataFrame or an Arrow table."""
    return isinstance(labels, pa.Table) or type(labels).__module__.split(".")[0] == "pandas"


def label_frame_rows(labels: Any) -> list[dict[str, Any]]:
    """The rows of a pandas DataFrame or Arrow table of labels, as SDK rows."""
    if isinstance(labels, pa.Table):
        rows: list[dict[str, Any]] = labels.to_pylist()
        return rows
    return [{str(k): v for k, v in row.items()} for row in labels.to_dict("records")]


def _naive_if_time(value: Any) -> Any:
    return _naive_utc(value) if isinstance(value, datetime) else value


def _utc_time_sql(name: str, kind: str) -> str | None:
    """SQL turning column `name` of DuckDB type `kind` into naive UTC times (NULL where a
    value is not a time); None when it already is one."""
    if kind == "TIMESTAMP":
        return None
    if kind == "VARCHAR":  # via TIMESTAMPTZ: the offset is honoured, naive text is UTC
        return f"timezone('UTC', TRY_CAST({name} AS TIMESTAMPTZ))"
    if kind.startswith(("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")):
        return f"timezone('UTC', {name})"
    if kind in _TIME_TYPES:
        return f"CAST({name} AS TIMESTAMP)"
    return "CAST(NULL AS TIMESTAMP)"


def _as_naive_utc(source: Source) -> str:
    """A `REPLACE` clause showing the source's timestamp columns as naive UTC times."""
    times = [column for column, kind in source.schema.items() if kind is ColumnType.TIMESTAMP]
    if not times:
        return ""
    # timezone('UTC', …), not CAST(… AS TIMESTAMP): DuckDB 2.0 pushes that cast into
    # read_csv, which then parses the text as naive and drops its offset.
    casts = ", ".join(f"timezone('UTC', {quote(column)}) AS {quote(column)}" for column in times)
    return f" REPLACE ({casts})"


def _spine_view(connection: duckdb.DuckDBPyConnection, name: str, select: str) -> None:
    connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")


def naive_utc(moment: datetime) -> datetime:
    """The UTC wall time of `moment` without a zone (naive times are taken as UTC)."""
    return _naive_utc(moment)


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    offset = moment.utcoffset()
    assert offset is not None
    return (moment - offset).replace(tzinfo=None)


def _split_table(source: Source) -> tuple[str, str]:
    location, sep, table = source.location.rpartition("#")
    if not sep or not location or not table:
        raise InvalidInput(
            f"source {source.name}.location",
            f"{source.location!r} must name the table after '#', e.g. warehouse.duckdb#events",
        )
    return location, table


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _describe_postgres(source: Source) -> dict[str, ColumnType | str]:
    import psycopg

    url, table = _split_table(source)
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
            f"Cannot read source {source.name} from PostgreSQL: {_first_line(error)}"
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


def _export_postgres(url: str, table: str, columns: list[str], target: Path) -> None:
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
