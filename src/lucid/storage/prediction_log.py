"""Logged predictions and their outcomes: rows of the metadata database (SQLite or
PostgreSQL) and columnar segments (`lucid.storage.prediction_segments`).

Rows are validated by `lucid.monitoring.predictions` before they reach here. Small batches
and the serving path write rows (one multi-row INSERT per call); a batch of at least
`segment_rows` predictions is written as segments, read back through DuckDB; a seal moves the
rows of ended days into segments (`lucid.storage.prediction_seal`). Every read covers both
stores, the rows and the segment list taken in one snapshot. Times are canonical UTC text, so
windows compare as text everywhere.
Outcomes have the same two stores (`lucid.storage.prediction_outcomes`), whichever store
holds their prediction. `SqlPredictionJournal` is the serving hot path's part
(`lucid.storage.prediction_journal`, re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from lucid.contracts.events import format_time
from lucid.ports.window_scan import OutcomeScan, SegmentScan
from lucid.storage import prediction_seal, served_segments
from lucid.storage.database import Database
from lucid.storage.prediction_entities import entity_rows, latest_served
from lucid.storage.prediction_ids import ids_among, row_ids_among, rows_by_id
from lucid.storage.prediction_journal import SqlPredictionJournal
from lucid.storage.prediction_outcomes import PredictionOutcomes, outcome_rows
from lucid.storage.prediction_seal import SEGMENTS_LOCK
from lucid.storage.prediction_segments import (
    SERVED_TEXT,
    PredictionSegments,
    Staged,
    scan,
    wall,
)
from lucid.storage.prediction_windows import labelled_rows, rows_part, segment_scan, segments_part
from lucid.storage.served_segments import ServedSegments
from lucid.storage.tables import outcome_log, prediction_log

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["SEGMENT_ROWS", "SqlPredictionJournal", "SqlPredictionLog"]

_BATCH = 5_000
"""Rows per INSERT statement and entities per lookup (keeps parameter lists bounded)."""

SEGMENT_ROWS = 5_000
"""The smallest batch of predictions written as a columnar segment rather than as rows."""


class SqlPredictionLog:
    """Predictions served and outcomes observed, per model; segments kept in `root` (none
    when `root` is None)."""

    def __init__(
        self, db: Database, root: Path | None = None, *, segment_rows: int = SEGMENT_ROWS
    ) -> None:
        self.db = db
        self.segments = None if root is None else PredictionSegments(db, root)
        self.outcomes = PredictionOutcomes(db, root, segment_rows)
        self.served = None if root is None else ServedSegments(db, root)
        self._segment_rows = segment_rows

    @property
    def segment_rows(self) -> int | None:
        return None if self.segments is None else self._segment_rows

    def insert_predictions(
        self, rows: Sequence[Mapping[str, Any]], *, check_ids: Sequence[str] = ()
    ) -> str | None:
        """Insert validated prediction rows in one transaction. With `check_ids` (the ids the
        caller chose), the first of them already logged in either store is returned and
        nothing is stored: checked and inserted under the lock segment appends and seals
        hold, so a concurrent writer of the same id cannot pass the check too."""
        if not check_ids:
            self._insert_rows(rows)
            return None
        with self.db.session_lock(SEGMENTS_LOCK):
            taken = self.existing_ids(check_ids)
            if taken:
                return min(taken)
            self._insert_rows(rows)
        return None

    def _insert_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        with self.db.write_transaction() as connection:
            for start in range(0, len(rows), _BATCH):
                connection.execute(insert(prediction_log), list(rows[start : start + _BATCH]))

    def append_predictions(
        self, model: str, batches: Iterable[pa.Table], *, check_ids: bool
    ) -> str | None:
        """Write validated batches as segments, registered together once all are written;
        with `check_ids` the first id already logged (or given by an earlier batch of the
        same call) and nothing is stored. Appends are serialised, so two calls cannot both
        pass the check."""
        from datetime import UTC, datetime

        from lucid.storage.segment_writer import SegmentWriter

        segments = self.segments
        if segments is None:
            raise RuntimeError("this prediction log keeps no segments")
        writer = SegmentWriter(segments.root, model, format_time(datetime.now(UTC)))
        with self.db.session_lock(SEGMENTS_LOCK):
            try:
                for batch in batches:
                    if check_ids:
                        ids = batch.column("id")
                        taken = self._taken_in_segments(ids)
                        if taken is None:
                            taken = min(self._taken_in_rows(ids.to_pylist()), default=None)
                        if taken is not None:
                            writer.discard()
                            return taken
                    writer.write(batch)
                    del batch  # the next batch is read without this one held
                staged = writer.close()
                twice = self._given_twice(staged) if check_ids and len(staged) else None
            except BaseException:
                writer.discard()
                raise
            if twice is not None:
                segments.discard(staged)
                return twice
            segments.register(staged)
        return None

    def sealable_days(self, before: str, model: str | None = None) -> list[tuple[str, str]]:
        """(model, UTC day) of the rows served before `before` a seal may move
        (`lucid.storage.prediction_seal`); none when the log keeps no segments."""
        if self.segments is None:
            return []
        return prediction_seal.sealable_days(self.db, before, model)

    def sealable_rows(self, model: str, day: str, before: str, limit: int) -> list[dict[str, Any]]:
        return prediction_seal.sealable_rows(self.db, model, day, before, limit)

    def seal(self, model: str, table: pa.Table) -> int:
        if self.segments is None:
            raise RuntimeError("this prediction log keeps no segments")
        return prediction_seal.seal(self.db, self.segments, model, table)

    def _given_twice(self, staged: Sequence[Staged]) -> str | None:
        """The smallest id written twice by one append (in two of its batches), if any."""
        with self._duckdb() as connection:
            row = connection.execute(
                f"SELECT min(id) FROM (SELECT id FROM {scan([str(p) for _, p in staged])} "
                "GROUP BY id HAVING count(*) > 1)"
            ).fetchone()
        return None if row is None else row[0]

    def _taken_in_rows(self, wanted: list[str], connection: Connection | None = None) -> set[str]:
        if connection is None:
            with self.db.transaction() as opened:
                return self._taken_in_rows(wanted, opened)
        found: set[str] = set()
        if connection.execute(select(func.count()).select_from(prediction_log)).scalar():
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start : start + _BATCH]
                found.update(
                    connection.execute(
                        select(prediction_log.c.id).where(prediction_log.c.id.in_(chunk))
                    ).scalars()
                )
        return found

    def _taken_in_segments(self, ids: pa.ChunkedArray | pa.Array) -> str | None:
        import pyarrow as pa

        files = self._files()
        if not files:
            return None
        with self._duckdb() as connection:
            connection.register("wanted", pa.table({"id": ids}))
            row = connection.execute(
                f"SELECT min(s.id) FROM {scan(files)} s SEMI JOIN wanted w ON s.id = w.id"
            ).fetchone()
        return None if row is None else row[0]

    def _files(
        self,
        model: str | None = None,
        start: str | None = None,
        end: str | None = None,
        connection: Connection | None = None,
    ) -> list[str]:
        if self.segments is None:
            return []
        return self.segments.files(model, start, end, connection)

    def _duckdb(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        return duckdb.connect()

    def _segment_lookup(
        self, files: Sequence[str], ids: Sequence[str], columns: str
    ) -> list[tuple[Any, ...]]:
        """`columns` of the rows of segment `files` whose id is in `ids`."""
        import pyarrow as pa

        if not files or not ids:
            return []
        with self._duckdb() as connection:
            connection.register("wanted", pa.table({"id": pa.array(ids, pa.string())}))
            return connection.execute(
                f"SELECT {columns} FROM {scan(files)} s SEMI JOIN wanted w ON s.id = w.id"
            ).fetchall()

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are already logged predictions."""
        wanted = list(dict.fromkeys(ids))
        with self.db.snapshot() as connection:  # a seal moves rows to a segment at once
            found = self._taken_in_rows(wanted, connection)
            files = self._files(connection=connection)
        found.update(row[0] for row in self._segment_lookup(files, wanted, "s.id"))
        return found

    def predictions_by_id(self, model: str, ids: Iterable[str]) -> dict[str, str]:
        """Prediction id → served_at, for the ids of `model` that exist."""
        wanted = list(dict.fromkeys(ids))
        with self.db.snapshot() as connection:
            files = self._files(model, connection=connection)
            found = dict(rows_by_id(connection, model, wanted, served=True))
        found.update(dict(self._segment_lookup(files, wanted, f"s.id, {SERVED_TEXT}")))
        return found

    def latest_before(self, model: str, wanted: Sequence[tuple[str, str, str]]) -> list[str | None]:
        """For each (entity, earliest, latest) the id of the entity's latest prediction served
        in [earliest, latest], or None: the entity join rule of outcomes."""
        if not wanted:
            return []
        entities = sorted({entity for entity, _, _ in wanted})
        low = min(earliest for _, earliest, _ in wanted)
        with self.db.snapshot() as connection:
            rows = entity_rows(connection, model, entities, low)
            files = self._files(model, low, connection=connection)
        return latest_served(wanted, rows, files, low)

    def predictions_among(self, model: str, ids: pa.Array) -> pa.Array:
        """The ids among `ids` (unique) of logged predictions of `model`, in either store."""
        with self.db.snapshot() as connection:  # a seal moves rows to a segment at once
            logged = row_ids_among(connection, model, ids)
            files = self._files(model, connection=connection)
        return ids_among(ids, logged, files)

    def outcomes_among(self, model: str, ids: pa.Array) -> pa.Table:
        """The outcomes already logged (`prediction_id`, `label`) of `model` among `ids`."""
        return self.outcomes.labels_among(model, ids)

    def append_outcomes(self, model: str, table: pa.Table) -> None:
        """Store new outcomes of `model` (`prediction_id`, `label`, `observed_at`,
        `logged_at`) in one transaction, as a segment when the log keeps segments."""
        self.outcomes.append(model, table)

    @contextmanager
    def outcome_lock(self) -> Iterator[None]:
        """Held while outcomes are checked and stored: seals and appends hold it too."""
        with self.db.session_lock(SEGMENTS_LOCK):
            yield

    def outcomes_of(self, ids: Iterable[str]) -> dict[str, int]:
        """Prediction id → label already logged (a row or sealed), for the ids that have one."""
        return self.outcomes.labels_of(ids)

    def insert_outcomes(
        self, rows: Sequence[Mapping[str, Any]], connection: Connection | None = None
    ) -> None:
        self.outcomes.insert(rows, connection)

    def sealable_outcome_days(self, before: str, model: str | None = None) -> list[tuple[str, str]]:
        """(model, UTC day) of the outcome rows logged before `before` a seal may move."""
        if self.segments is None:
            return []
        return prediction_seal.sealable_days(self.db, before, model, outcome_log)

    def sealable_outcomes(
        self, model: str, day: str, before: str, limit: int
    ) -> list[dict[str, Any]]:
        return prediction_seal.sealable_rows(self.db, model, day, before, limit, outcome_log)

    def seal_outcomes(self, model: str, rows: Sequence[Mapping[str, Any]]) -> int:
        segments = self.outcomes.segments
        if segments is None:
            raise RuntimeError("this prediction log keeps no segments")
        return prediction_seal.seal_outcomes(self.db, segments, model, rows)

    def sealable_served_days(self, before: str) -> list[str]:
        """The UTC days of the served feature values served before `before` a seal may move
        (`lucid.storage.served_segments`); none when the log keeps no segments."""
        if self.served is None:
            return []
        return served_segments.sealable_days(self.db, before)

    def sealable_served(self, day: str, before: str, limit: int) -> list[dict[str, Any]]:
        return served_segments.sealable_rows(self.db, day, before, limit)

    def seal_served(self, rows: Sequence[Mapping[str, Any]]) -> int:
        if self.served is None:
            raise RuntimeError("this prediction log keeps no segments")
        return served_segments.seal_served(self.db, self.served, rows)

    def arms_of(self, model: str, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[str, str | None]] = {}
        with self.db.snapshot() as connection:
            files = self._files(model, connection=connection)
            for start in range(0, len(wanted), _BATCH):
                query = select(
                    prediction_log.c.id,
                    prediction_log.c.entity,
                    prediction_log.c.arm,
                    prediction_log.c.model,
                ).where(prediction_log.c.id.in_(wanted[start : start + _BATCH]))
                found.update(
                    (str(i), (str(entity), None if arm is None else str(arm)))
                    for i, entity, arm, of in connection.execute(query)
                    if of == model  # by id alone: `predictions_by_id`
                )
        for i, entity, arm in self._segment_lookup(files, wanted, "s.id, s.entity, s.arm"):
            found[str(i)] = (str(entity), None if arm is None else str(arm))
        return found

    def window_parts(
        self, model: str, start: str, end: str, version: str | None, *, labels: bool
    ) -> list[pa.Table]:
        """The window's rows (`features` as JSON text) and its segments (`feature.<name>`
        columns), each with `score` and, when `labels`, `label`; empty parts left out."""
        rows, files, outcomes = self._window(model, start, end, version, labels=labels)
        segments = segments_part(files, start, end, version, outcomes)
        return [part for part in (rows, segments) if part is not None and part.num_rows]

    def window_scan(
        self, model: str, start: str, end: str, version: str | None, *, labels: bool
    ) -> tuple[pa.Table, SegmentScan | None]:
        """The window's rows (as `window_parts` gives them) and its segments unread (None
        when no registered segment overlaps [start, end))."""
        rows, files, outcomes = self._window(model, start, end, version, labels=labels)
        if not files:
            return rows, None
        return rows, segment_scan(files, start, end, version, outcomes)

    def _window(
        self, model: str, start: str, end: str, version: str | None, *, labels: bool
    ) -> tuple[pa.Table, list[str], OutcomeScan | None]:
        """The window's rows (labelled), its segment files and, when `labels` and there are
        segment files, the outcomes they join: rows and lists read in one snapshot."""
        outcomes = None
        with self.db.snapshot() as connection:  # a seal moves rows to a segment at once
            rows = rows_part(connection, model, start, end, version, labels=labels)
            files = self._files(model, start, end, connection)
            outcome_files = self.outcomes.files(model, connection) if labels else []
            if labels and files:
                outcomes = OutcomeScan(outcome_rows(connection, model), tuple(outcome_files))
        return labelled_rows(rows, outcome_files), files, outcomes

    def latest_version(self, model: str, start: str, end: str) -> str | None:
        """The version of the latest prediction of `model` served in [start, end)."""
        with self.db.snapshot() as connection:
            latest = connection.execute(
                select(prediction_log.c.served_at, prediction_log.c.version)
                .where(
                    prediction_log.c.model == model,
                    prediction_log.c.served_at >= start,
                    prediction_log.c.served_at < end,
                )
                .order_by(prediction_log.c.served_at.desc())
                .limit(1)
            ).first()
            files = self._files(model, start, end, connection)
        found = [tuple(latest)] if latest is not None else []
        if files:
            with self._duckdb() as connection:
                found += connection.execute(
                    f"SELECT {SERVED_TEXT}, s.version FROM {scan(files)} s "
                    "WHERE s.served_at >= CAST($start AS TIMESTAMP) "
                    "AND s.served_at < CAST($end AS TIMESTAMP) ORDER BY s.served_at DESC LIMIT 1",
                    {"start": wall(start), "end": wall(end)},
                ).fetchall()
        return str(max(found)[1]) if found else None

    def counts(self, model: str) -> tuple[int, int]:
        """(predictions, outcomes) logged for `model`."""
        with self.db.snapshot() as connection:
            predictions = connection.execute(
                select(func.count()).where(prediction_log.c.model == model)
            ).scalar_one()
            outcomes = self.outcomes.count(model, connection)
            in_segments = 0 if self.segments is None else self.segments.rows(model, connection)
        return int(predictions) + in_segments, outcomes
