"""The embedded compute engine: DuckDB over the project's Parquet/CSV files and tables.

Two kinds of callers share it: the feature store (sources as views, feature SQL over a spine)
and monitoring (inputs registered by name — Parquet, CSV, Arrow, pandas — queried by SQL).

Sources become SQL relations (`lucid.engines.duckdb_sources`): Parquet and CSV through
`read_parquet`/`read_csv`, DuckDB tables through a read-only ATTACH, PostgreSQL tables copied
once per engine into a temporary table (DuckDB's postgres extension would have to be downloaded
at run time, which a closed network refuses). Every session runs in UTC.

The connection is confined (`lucid.engines.duckdb_access`) before it runs any SQL that is not
the engine's own setup: it then reads only the sources, inputs and labels it was given and its
scratch folder. Needing a file it was not given opens a fresh connection, carrying over what
the engine holds in memory, and confines that one in turn.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lucid.contracts.semantic import ColumnType, FeatureDefinition, Source, SourceKind
from lucid.engines.dialects import DUCKDB
from lucid.engines.drift_sql import DialectQueries
from lucid.engines.duckdb_access import Readable, confine, connect, file, folder
from lucid.engines.duckdb_sources import (
    attach_database,
    copy_postgres,
    describe_source,
    file_view,
    readable_of,
    reader_sql,
)
from lucid.engines.duckdb_training_set import TrainingSet
from lucid.engines.duckdb_types import NUMERIC_TYPES
from lucid.engines.feature_sql import feature_sql
from lucid.engines.label_snapshots import Stage
from lucid.engines.labels import load_labels, naive_utc
from lucid.engines.relations import SPINE_AS_OF, SPINE_ENTITY, quote, view_name
from lucid.engines.source_sql import SourceQueries
from lucid.engines.spines import entity_spine_sql, training_set_sql
from lucid.engines.window_scan_sql import window_view_sql
from lucid.errors import InvalidInput
from lucid.ports.offline import ColumnKind, Labels
from lucid.ports.window_scan import WindowScan


class DuckDBEngine:
    """Runs feature SQL on DuckDB; `project_dir` anchors relative source locations."""

    dialect = "duckdb"
    drift_queries = DialectQueries(DUCKDB)
    source_queries = SourceQueries(DUCKDB)

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
        self._memory_limit, self._threads = memory_limit, threads
        self._spill_directory = spill_directory
        self._scratch = Path(tempfile.mkdtemp(prefix="lucid-duckdb-"))
        self._readable = folder(self._scratch)
        self.connection = self._connect()
        self._confined = False
        self._attached: dict[str, str] = {}
        self._views: set[str] = set()
        self._tables: set[str] = set()  # held in memory: carried to a new connection
        self._inputs: dict[str, object] = {}  # registered by name (monitoring)
        self._stages = 0  # the snapshot stages of the latest training set, as temporary tables

    def close(self) -> None:
        self.connection.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    # --- what the connection may read ------------------------------------------------------

    def _allow(self, readable: Readable) -> None:
        """Let the connection read `readable`; a confined one is replaced by a fresh one."""
        if self._readable.covers(readable):
            return
        self._readable = self._readable | readable
        if self._confined:
            self._reopen()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return connect(
            memory_limit=self._memory_limit,
            threads=self._threads,
            spill_directory=self._spill_directory,
        )

    def _confine(self) -> None:
        """Before SQL that is not the engine's own setup: nothing outside `_readable`."""
        if not self._confined:
            confine(self.connection, self._readable)
            self._confined = True

    def _reopen(self) -> None:
        """A fresh, unconfined connection holding the same tables and inputs. The old one
        is left open for the cursors and training sets still reading from it."""
        old, self.connection = self.connection, self._connect()
        self._confined = False
        for name in sorted(self._tables):
            carried = old.execute(f"SELECT * FROM {name}").to_arrow_table()
            self.connection.register("__lucid_carried", carried)
            self.connection.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM __lucid_carried")
            self.connection.unregister("__lucid_carried")
        self._views = set(self._tables)
        self._attached = {}
        inputs, self._inputs = self._inputs, {}
        for name, source in inputs.items():
            self.register(name, source)

    def _prepare(self, sources: Sequence[Source]) -> None:
        """Views over `sources`, each readable, before the connection is confined."""
        for source in sources:
            if view_name(source) not in self._views:
                self._allow(readable_of(self.project_dir, source))
        for source in sources:
            self.relation(source)

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
        self._inputs.pop(name, None)
        if isinstance(source, WindowScan):
            self._register_scan(name, source)
            return
        if isinstance(source, str | Path):
            path = Path(source)
            if not path.is_file():
                raise InvalidInput(name, f"file {path} does not exist")
            self._allow(file(path))
            file_view(self.connection, name, path)
            self._views.add(name)
            self._inputs[name] = source
            return
        self.connection.register(name, source)
        self._inputs[name] = source

    def _register_scan(self, name: str, window: WindowScan) -> None:
        """`window` as the view `name`: its segment files scanned by every query on it."""
        labels = window.segments.outcomes
        for path in window.segments.files + (() if labels is None else labels.files):
            self._allow(file(path))
        rows, outcomes = f"__lucid_{name}_rows", f"__lucid_{name}_outcomes"
        self.connection.register(rows, window.rows)
        if labels is not None:
            self.connection.register(outcomes, labels.rows)
        sql = window_view_sql(window, rows, outcomes if window.label else None)
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {quote(name)} AS {sql}")
        self._views.add(name)
        self._inputs[name] = window

    def columns(self, name: str) -> dict[str, ColumnKind]:
        """Each column of `name` and whether drift treats it as numeric or categorical.

        Booleans, text, dates and everything not a number are categorical.
        """
        self._confine()
        rows = self.connection.execute(f"DESCRIBE {quote(name)}").fetchall()
        kinds: dict[str, ColumnKind] = {}
        for row in rows:
            column, column_type = str(row[0]), str(row[1]).upper()
            numeric = column_type.startswith(NUMERIC_TYPES)
            kinds[column] = "numeric" if numeric else "categorical"
        return kinds

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        self._confine()
        return self.connection.execute(sql).fetchall()

    def batches(self, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
        """The result of `sql` streamed as Arrow record batches of at most `rows` rows."""
        self._confine()
        yield from self.connection.sql(sql).to_arrow_reader(rows)

    # --- sources ---------------------------------------------------------------------------

    def relation(self, source: Source) -> str:
        """The name of a view (or table) `source_<name>` that reads `source`.

        Feature SQL only ever names these views, so the same query text runs on every engine
        that registers them.
        """
        name = view_name(source)
        if name not in self._views:
            self._allow(readable_of(self.project_dir, source))
            if source.kind is SourceKind.POSTGRESQL:
                copy_postgres(self.connection, source, name, self._scratch)
                self._tables.add(name)
            else:
                reader = reader_sql(self.project_dir, source, self._attach)
                self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {reader}")
            self._views.add(name)
        return name

    def mark_loaded(self, name: str) -> None:
        """Use the relation `name` the caller created itself in memory (golden examples,
        tests)."""
        self._views.add(name)
        self._tables.add(name)

    def describe(self, source: Source) -> dict[str, ColumnType | str]:
        """The columns the data really has, with Lucid's type for each (or DuckDB's name of
        a type Lucid does not support)."""
        self._allow(readable_of(self.project_dir, source))
        return describe_source(self.connection, self.project_dir, source, self._attach)

    def _attach(self, path: str) -> str:
        if path not in self._attached:
            self._attached[path] = attach_database(self.connection, self.project_dir, path)
        return self._attached[path]

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
        self._prepare([sources[name] for name in definition.sources])
        # Handed over as one Arrow table: row-by-row inserts cost ~50 µs a row.
        spine_rows = pa.table(
            {
                SPINE_ENTITY: pa.array([str(entity) for entity, _ in spine], pa.string()),
                SPINE_AS_OF: pa.array(
                    [naive_utc(moment) for _, moment in spine], pa.timestamp("us")
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
        self._confine()
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
        if isinstance(labels, str | Path):
            self._allow(file(labels))
        self._prepare([sources[name] for feature in features for name in feature.sources])
        load_labels(self.connection, labels, time_column)
        self._stages = 0
        described = self.connection.execute("DESCRIBE __lucid_labels").fetchall()
        label_types = {str(row[0]): str(row[1]) for row in described}
        spine_sql, sql = training_set_sql(
            features,
            sources,
            self.relation,
            labels="__lucid_labels",
            label_columns=list(label_types),
            entity_column=entity_column,
            time_column=time_column,
            spine="__lucid_label_spine",
            label_types=label_types,
            key_types=self._key_types(features, sources),
            settle=self._settle,
        )
        _spine_view(self.connection, "__lucid_label_spine", spine_sql)
        self._confine()
        return TrainingSet(
            self.connection, sql, [definition.name for definition in features], self._scratch
        )

    def _settle(self, stage: Stage) -> str:
        """A snapshot stage as temporary tables, one per join: the label rows with their
        latest event time, then with that instant's events (as one statement, the stage took
        about 1 CPU-s more at 10 M events x 1 M labels). The tie rule's aggregate runs only
        when an instant holds several events for some label row (more rows than labels)."""
        self._confine()  # the rows read the sources with the definitions' filters
        number = self._stages
        self._stages += 1
        timed, name = f"__lucid_times_{number}", f"__lucid_snapshots_{number}"
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {timed} AS {stage.times}")
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {stage.events(timed)}")
        self.connection.execute(f"DROP TABLE {timed}")
        [(tied,)] = self.connection.execute(
            f"SELECT (SELECT COUNT(*) FROM {name}) > (SELECT COUNT(*) FROM __lucid_labels)"
        ).fetchall()
        if not tied:
            return name
        settled = f"__lucid_settled_{number}"
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {settled} AS SELECT * FROM {stage.tie_rule(name)}"
        )
        return settled

    def _key_types(
        self, features: Sequence[FeatureDefinition], sources: Mapping[str, Source]
    ) -> dict[str, str]:
        """The DuckDB type of each feature source's entity key column, as its view reads it."""
        found = {}
        for name in dict.fromkeys(name for feature in features for name in feature.sources):
            source = sources[name]
            if source.entity_key not in source.schema:
                continue  # the feature SQL names the missing column
            [(_, kind, *_)] = self.connection.execute(
                f"DESCRIBE SELECT {quote(source.entity_key)} FROM {self.relation(source)}"
            ).fetchall()
            found[name] = str(kind)
        return found

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
        self._prepare(
            [sources[name] for name in definition.sources] + ([keys] if keys is not None else [])
        )
        spine = entity_spine_sql(definition, sources, self.relation, naive_utc(at), keys)
        _spine_view(self.connection, "__lucid_materialise_spine", spine)
        query = feature_sql(
            definition,
            sources,
            "__lucid_materialise_spine",
            self.relation,
            as_known_at=True,
            at=naive_utc(at),
        )
        self._confine()
        return self.connection.execute(query)


def _spine_view(connection: duckdb.DuckDBPyConnection, name: str, select: str) -> None:
    connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")
