"""A file logged in chunks is written chunk by chunk into one segment per UTC day, registered
together, its ids (kept compact) the ones stored; a later chunk's schema change starts a new
segment of that day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select

from lucid.monitoring.prediction_tables import log_prediction_table
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.tables import prediction_segments

DAY = datetime(2026, 11, 2, 20, tzinfo=UTC)


def _chunk(start: int, n: int, *, plan: pa.Array | None = None) -> pa.Table:
    """`n` predictions an hour apart from DAY + `start` hours (so crossing midnight)."""
    return pa.table(
        {
            "entity": [f"e{start + i}" for i in range(n)],
            "served_at": pa.array(
                [DAY + timedelta(hours=start + i) for i in range(n)], pa.timestamp("us", "UTC")
            ),
            "score": [0.5] * n,
            "plan": plan if plan is not None else pa.array(["pro"] * n),
        }
    )


def _registered(db: Database) -> list[tuple[str, int, str, str]]:
    query = select(
        prediction_segments.c.day,
        prediction_segments.c.rows,
        prediction_segments.c.first_served_at,
        prediction_segments.c.last_served_at,
    ).order_by(prediction_segments.c.first_served_at)
    with db.transaction() as connection:
        return [tuple(row) for row in connection.execute(query)]  # type: ignore[misc]


def test_chunks_are_written_into_one_segment_a_day(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=2)
    ids = log_prediction_table(log, "churn", "1", [_chunk(0, 3), _chunk(3, 3), _chunk(6, 2)])
    assert _registered(db) == [
        ("2026-11-02", 4, "2026-11-02T20:00:00.000000Z", "2026-11-02T23:00:00.000000Z"),
        ("2026-11-03", 4, "2026-11-03T00:00:00.000000Z", "2026-11-03T03:00:00.000000Z"),
    ]
    assert len(ids) == 8 and len(set(ids)) == 8
    stored = log.predictions_by_id("churn", list(ids))
    assert sorted(stored) == sorted(ids)
    assert stored[ids[7]] == "2026-11-03T03:00:00.000000Z"
    assert log.segments is not None and log.segments.altered() == []


def test_a_chunk_of_another_schema_starts_a_new_segment(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=2)
    nulls = _chunk(0, 2, plan=pa.nulls(2))
    log_prediction_table(log, "churn", "1", [nulls, _chunk(2, 1)])
    assert [(day, rows) for day, rows, _, _ in _registered(db)] == [
        ("2026-11-02", 2),
        ("2026-11-02", 1),
    ]
    assert log.counts("churn") == (3, 0)
