"""The columnar part of the outcome log: immutable Parquet segments under the prediction log's
folder, one model and one UTC day of logging each
(`outcomes/model=<model>/day=<YYYY-MM-DD>/<id>.parquet`).

They follow the prediction segments' write rule (`lucid.storage.prediction_segments`):
written under a temporary name, fsynced, renamed, then registered by one row of
`outcome_segments` (rows, SHA-256, logged-at range); a file without a committed registration
is an orphan and is never read. A segment holds `prediction_id`, `label` (0/1),
`observed_at` and `logged_at` (canonical UTC text), one outcome per prediction id across
the rows and every segment.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, select

from lucid.storage.prediction_segments import (
    SegmentRegistry,
    Staged,
    altered_files,
    held_rows,
    registered_paths,
    write_file,
)
from lucid.storage.tables import outcome_segments

if TYPE_CHECKING:
    import pyarrow as pa

FOLDER = "outcomes"
"""The outcome segments' folder under the prediction log's."""


def outcome_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Outcome rows (as `outcome_log` holds them) in a segment's columns."""
    import pyarrow as pa

    return pa.table(
        {
            "prediction_id": pa.array([row["prediction_id"] for row in rows], pa.string()),
            "label": pa.array([row["label"] for row in rows], pa.int64()),
            "observed_at": pa.array([row["observed_at"] for row in rows], pa.string()),
            "logged_at": pa.array([row["logged_at"] for row in rows], pa.string()),
        }
    )


class OutcomeSegments(SegmentRegistry):
    """The registered outcome segments of the log kept in `root`."""

    registry = outcome_segments

    def stage(self, model: str, table: pa.Table, created_at: str) -> Staged:
        """Write `table` (outcomes of `model`, in `outcome_table`'s columns) as one segment
        file, not yet registered (so not yet read)."""
        import pyarrow.compute as pc

        bounds = pc.min_max(table.column("logged_at"))
        first, last = str(bounds["min"].as_py()), str(bounds["max"].as_py())
        segment = str(uuid.uuid4())
        relative = f"{FOLDER}/model={quote(model, safe='')}/day={first[:10]}/{segment}.parquet"
        sha256, final = write_file(self.root / relative, table, ["observed_at", "logged_at"])
        row = {
            "id": segment,
            "model": model,
            "day": first[:10],
            "path": relative,
            "rows": table.num_rows,
            "sha256": sha256,
            "first_logged_at": first,
            "last_logged_at": last,
            "created_at": created_at,
        }
        return row, final

    def files(self, model: str | None = None, connection: Connection | None = None) -> list[str]:
        """The registered outcome segment files (absolute paths) of `model` (every model when
        None), read in the transaction of `connection` when given."""
        query = select(outcome_segments.c.path).order_by(
            outcome_segments.c.first_logged_at, outcome_segments.c.id
        )
        if model is not None:
            query = query.where(outcome_segments.c.model == model)
        return registered_paths(self.db, self.root, query, connection)

    def rows(self, model: str, connection: Connection) -> int:
        """Outcomes of `model` held in segments, read in the transaction of `connection`."""
        return held_rows(outcome_segments, model, connection)

    def altered(self, model: str | None = None) -> list[str]:
        """The registered outcome segments (paths relative to the log's folder) whose bytes
        are missing or no longer hash to their registered SHA-256."""
        return altered_files(self.db, self.root, outcome_segments, model)
