"""The reads of a monitoring window from both stores of the prediction log: its rows (the
metadata database's `prediction_log`, features as JSON text) and its segments, read into a
table (`segments_part`) or described unread for the engine to scan (`segment_scan`). The
caller takes the rows and the segment list in one snapshot (`SqlPredictionLog`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from lucid.ports.window_scan import SegmentScan
from lucid.storage.database import Database
from lucid.storage.prediction_segments import FEATURE_PREFIX, file_list, scan, wall
from lucid.storage.tables import outcome_log, prediction_log

if TYPE_CHECKING:
    import pyarrow as pa

_BATCH_ROWS = 262_144
"""Rows per Arrow batch a segment read streams (DuckDB never holds the whole result)."""


def segment_scan(
    db: Database,
    files: Sequence[str],
    model: str,
    start: str,
    end: str,
    version: str | None,
    *,
    labels: bool,
) -> SegmentScan:
    """The window's segment `files` described unread: their schema, the rows they hold, the
    bounds and version filter the engine applies, and the model's outcomes when `labels`."""
    import duckdb

    with duckdb.connect() as connection:
        schema = connection.sql(f"SELECT * FROM {scan(files)} LIMIT 0").to_arrow_table().schema
        [(held,)] = connection.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata({file_list(files)})"
        ).fetchall()
    outcomes = outcomes_table(db, model) if labels else None
    return SegmentScan(tuple(files), int(held), wall(start), wall(end), version, schema, outcomes)


def rows_part(
    connection: Connection,
    model: str,
    start: str,
    end: str,
    version: str | None,
    *,
    labels: bool,
) -> pa.Table:
    """The window's rows: `features` as JSON text, `score` and, when `labels`, `label`."""
    import pyarrow as pa

    query = (
        select(prediction_log.c.features, prediction_log.c.score, outcome_log.c.label)
        .select_from(
            prediction_log.outerjoin(
                outcome_log, outcome_log.c.prediction_id == prediction_log.c.id
            )
        )
        .where(
            prediction_log.c.model == model,
            prediction_log.c.served_at >= start,
            prediction_log.c.served_at < end,
        )
        .order_by(prediction_log.c.served_at, prediction_log.c.id)
    )
    if version is not None:
        query = query.where(prediction_log.c.version == version)
    rows = connection.execute(query).all()
    columns: dict[str, pa.Array] = {
        "features": pa.array([row[0] for row in rows], pa.string()),
        "score": pa.array([row[1] for row in rows], pa.float64()),
    }
    if labels:
        columns["label"] = pa.array([row[2] for row in rows], pa.int64())
    return pa.table(columns)


def segments_part(
    db: Database,
    files: Sequence[str],
    model: str,
    start: str,
    end: str,
    version: str | None,
    *,
    labels: bool,
) -> pa.Table | None:
    """The window's predictions in segment `files`: `score`, the `feature.<name>` columns
    and, when `labels`, `label`; None when there are no files."""
    if not files:
        return None
    import duckdb

    where = "s.served_at >= CAST($start AS TIMESTAMP) AND s.served_at < CAST($end AS TIMESTAMP)"
    parameters: dict[str, Any] = {"start": wall(start), "end": wall(end)}
    if version is not None:
        where += " AND s.version = $version"
        parameters["version"] = version
    with duckdb.connect() as connection:
        names = [
            str(row[0])
            for row in connection.execute(f"DESCRIBE SELECT * FROM {scan(files)}").fetchall()
        ]
        features = ", ".join(f's."{name}"' for name in names if name.startswith(FEATURE_PREFIX))
        selected = f"s.score{', ' + features if features else ''}"
        if labels:
            connection.register("outcomes", outcomes_table(db, model))
            query = (
                f"SELECT {selected}, o.label FROM {scan(files)} s "
                f"LEFT JOIN outcomes o ON o.prediction_id = s.id WHERE {where}"
            )
        else:
            query = f"SELECT {selected} FROM {scan(files)} s WHERE {where}"
        reader = connection.sql(query, params=parameters).to_arrow_reader(_BATCH_ROWS)
        table: pa.Table = reader.read_all()
    return table


def outcomes_table(db: Database, model: str) -> pa.Table:
    """Every outcome logged for `model`: `prediction_id`, `label`."""
    import pyarrow as pa

    with db.transaction() as connection:
        rows = connection.execute(
            select(outcome_log.c.prediction_id, outcome_log.c.label).where(
                outcome_log.c.model == model
            )
        ).all()
    return pa.table(
        {
            "prediction_id": pa.array([row[0] for row in rows], pa.string()),
            "label": pa.array([row[1] for row in rows], pa.int64()),
        }
    )
