"""The outcome log's two stores: rows of the metadata database (`outcome_log`) and outcome
segments (`lucid.storage.outcome_segments`), one outcome per prediction id across both.

A batch of at least `segment_rows` outcomes of one model is written as one segment
(registered in one transaction; its file an orphan, never read, until then); a smaller batch
and a batch stored with experiment outcomes in a unit of work are rows. The daily seal moves
the rows of ended days into segments (`lucid.storage.prediction_seal.seal_outcomes`). Reads
take the rows and the segment list in one snapshot. The rule of one outcome per prediction is
checked by the caller under `SEGMENTS_LOCK` (`lucid.monitoring.predictions.log_outcomes`),
the lock seals hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from lucid.contracts.events import format_time
from lucid.storage.database import Database
from lucid.storage.outcome_segments import OutcomeSegments, outcome_table
from lucid.storage.prediction_segments import scan
from lucid.storage.tables import outcome_log

if TYPE_CHECKING:
    import pyarrow as pa

_BATCH = 5_000
"""Rows per INSERT statement and ids per lookup (keeps parameter lists bounded)."""


class PredictionOutcomes:
    """The outcomes of the log kept in `root` (rows only when `root` is None)."""

    def __init__(self, db: Database, root: Path | None, segment_rows: int) -> None:
        self.db = db
        self.segments = None if root is None else OutcomeSegments(db, root)
        self.segment_rows = segment_rows

    def labels_of(self, ids: Iterable[str]) -> dict[str, int]:
        """Prediction id → label already logged, for the ids that have one."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, int] = {}
        with self.db.snapshot() as connection:  # a seal moves rows to a segment at once
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start : start + _BATCH]
                query = select(outcome_log.c.prediction_id, outcome_log.c.label).where(
                    outcome_log.c.prediction_id.in_(chunk)
                )
                found.update(dict(connection.execute(query).all()))
            files = self.files(connection=connection)
        if files and wanted:
            import duckdb
            import pyarrow as pa

            with duckdb.connect() as duck:
                duck.register("wanted", pa.table({"id": pa.array(wanted, pa.string())}))
                found.update(
                    duck.execute(
                        f"SELECT o.prediction_id, o.label FROM {scan(files)} o "
                        "SEMI JOIN wanted w ON o.prediction_id = w.id"
                    ).fetchall()
                )
        return found

    def insert(
        self, rows: Sequence[Mapping[str, Any]], connection: Connection | None = None
    ) -> None:
        """Store outcome rows: in the transaction of `connection` when given, else as one
        segment when the batch is large enough, else as rows."""
        if connection is not None:
            for start in range(0, len(rows), _BATCH):
                connection.execute(insert(outcome_log), list(rows[start : start + _BATCH]))
            return
        if self._columnar(rows):
            self.append(str(rows[0]["model"]), outcome_table(rows))
            return
        with self.db.transaction() as opened:
            self.insert(rows, opened)

    def _columnar(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Whether `rows` go to a segment: enough of them, of one model."""
        if self.segments is None or len(rows) < self.segment_rows:
            return False
        return len({row["model"] for row in rows}) == 1

    def labels_among(self, model: str, ids: pa.Array) -> pa.Table:
        """The outcomes already logged (`prediction_id`, `label`) of `model`'s predictions
        among `ids`, from both stores read in one snapshot."""
        import duckdb
        import pyarrow as pa

        with self.db.snapshot() as connection:
            logged = _rows_among(connection, model, ids)
            files = self.files(model, connection)
        source = "SELECT prediction_id, label FROM logged"
        if files:
            source += f" UNION ALL SELECT prediction_id, CAST(label AS BIGINT) FROM {scan(files)}"
        with duckdb.connect() as duck:
            duck.register("logged", logged)
            duck.register("wanted", pa.table({"id": ids}))
            found: pa.Table = duck.sql(
                f"SELECT o.prediction_id, o.label FROM ({source}) o "
                "SEMI JOIN wanted w ON o.prediction_id = w.id"
            ).to_arrow_table()
        return found

    def append(self, model: str, table: pa.Table) -> None:
        """Store new outcomes of `model` (`outcome_table`'s columns) in one transaction: one
        segment, or rows when the log keeps no segments."""
        segments = self.segments
        if segments is None or not table.num_rows:
            with self.db.write_transaction() as connection:
                self.insert([{"model": model, **row} for row in table.to_pylist()], connection)
            return
        segments.register([segments.stage(model, table, format_time(datetime.now(UTC)))])

    def files(self, model: str | None = None, connection: Connection | None = None) -> list[str]:
        return [] if self.segments is None else self.segments.files(model, connection)

    def count(self, model: str, connection: Connection) -> int:
        """Outcomes of `model` in both stores, read in the transaction of `connection`."""
        rows = connection.execute(
            select(func.count()).where(outcome_log.c.model == model)
        ).scalar_one()
        held = 0 if self.segments is None else self.segments.rows(model, connection)
        return int(rows) + held


def outcome_rows(connection: Connection, model: str) -> pa.Table:
    """The outcome rows of `model` (`prediction_id`, `label`), read on `connection`."""
    import pyarrow as pa

    rows = connection.execute(
        select(outcome_log.c.prediction_id, outcome_log.c.label).where(outcome_log.c.model == model)
    ).all()
    return pa.table(
        {
            "prediction_id": pa.array([row[0] for row in rows], pa.string()),
            "label": pa.array([row[1] for row in rows], pa.int64()),
        }
    )


def _rows_among(connection: Connection, model: str, ids: pa.Array) -> pa.Table:
    """The outcome rows (`prediction_id`, `label`) of `model` that may be among `ids`: every
    row of the model when it has no more rows than `ids` (one read, no id list sent), else
    the rows of `ids` looked up by id."""
    import pyarrow as pa

    held = connection.execute(select(func.count()).where(outcome_log.c.model == model)).scalar_one()
    if held <= len(ids):
        return outcome_rows(connection, model)
    wanted = ids.to_pylist()
    found: list[tuple[str, int]] = []
    for start in range(0, len(wanted), _BATCH):
        query = select(outcome_log.c.prediction_id, outcome_log.c.label).where(
            outcome_log.c.prediction_id.in_(wanted[start : start + _BATCH])
        )
        found += [(str(i), int(label)) for i, label in connection.execute(query)]
    return pa.table(
        {
            "prediction_id": pa.array([i for i, _ in found], pa.string()),
            "label": pa.array([label for _, label in found], pa.int64()),
        }
    )
