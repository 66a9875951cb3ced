"""The reads of a monitoring window from both stores of the prediction log: its rows (the
metadata database's `prediction_log`, features as JSON text) and its segments, read into a
table (`segments_part`) or described unread for the engine to scan (`segment_scan`).
Outcomes are joined by prediction id inside DuckDB from both stores of the outcome log (its
rows and its segments), except the rows part's own SQL join with outcome rows. The caller
takes the rows, the outcome rows and both segment lists in one snapshot (`SqlPredictionLog`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from lucid.ports.window_scan import OutcomeScan, SegmentScan, file_list
from lucid.storage.prediction_segments import FEATURE_PREFIX, scan, wall
from lucid.storage.tables import outcome_log, prediction_log

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

_BATCH_ROWS = 262_144
"""Rows per Arrow batch a segment read streams (DuckDB never holds the whole result)."""


def segment_scan(
    files: Sequence[str],
    start: str,
    end: str,
    version: str | None,
    outcomes: OutcomeScan | None,
) -> SegmentScan:
    """The window's segment `files` described unread: their schema, the rows they hold, the
    bounds and version filter the engine applies, and the model's outcomes when labelled."""
    import duckdb

    with duckdb.connect() as connection:
        schema = connection.sql(f"SELECT * FROM {scan(files)} LIMIT 0").to_arrow_table().schema
        [(held,)] = connection.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata({file_list(files)})"
        ).fetchall()
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
    """The window's rows: `features` as JSON text, `score` and, when `labels`, `label` (the
    outcome rows' label) and `id` (for `labelled_rows`)."""
    import pyarrow as pa

    query = (
        select(
            prediction_log.c.features,
            prediction_log.c.score,
            outcome_log.c.label,
            prediction_log.c.id,
        )
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
        columns["id"] = pa.array([row[3] for row in rows], pa.string())
    return pa.table(columns)


def labelled_rows(rows: pa.Table, outcome_files: Sequence[str]) -> pa.Table:
    """`rows_part`'s table without `id`, the labels of outcomes kept in `outcome_files`
    joined by id inside DuckDB (a prediction row's outcome may be sealed or batch-logged)."""
    if "id" not in rows.column_names:
        return rows
    if not outcome_files or rows.column("label").null_count == 0:
        return rows.drop_columns(["id"])
    import duckdb
    import pyarrow as pa

    numbered = rows.append_column("position", pa.array(range(rows.num_rows), pa.int64()))
    with duckdb.connect() as connection:
        connection.register("logged", numbered)
        table: pa.Table = connection.sql(
            "SELECT r.features, r.score, coalesce(r.label, CAST(o.label AS BIGINT)) AS label "
            f"FROM logged r LEFT JOIN {scan(outcome_files)} o ON o.prediction_id = r.id "
            "ORDER BY r.position"
        ).to_arrow_table()
    return table


def segments_part(
    files: Sequence[str],
    start: str,
    end: str,
    version: str | None,
    outcomes: OutcomeScan | None,
) -> pa.Table | None:
    """The window's predictions in segment `files`: `score`, the `feature.<name>` columns
    and, when `outcomes` are given, `label`; None when there are no files."""
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
        if outcomes is not None:
            joined = _outcome_source(connection, outcomes)
            query = (
                f"SELECT {selected}, o.label FROM {scan(files)} s "
                f"LEFT JOIN {joined} o ON o.prediction_id = s.id WHERE {where}"
            )
        else:
            query = f"SELECT {selected} FROM {scan(files)} s WHERE {where}"
        reader = connection.sql(query, params=parameters).to_arrow_reader(_BATCH_ROWS)
        table: pa.Table = reader.read_all()
    return table


def _outcome_source(connection: duckdb.DuckDBPyConnection, outcomes: OutcomeScan) -> str:
    """A DuckDB table expression of `outcomes` (`prediction_id`, `label` BIGINT), its rows
    registered on `connection`."""
    connection.register("outcome_rows", outcomes.rows)
    source = "SELECT prediction_id, label FROM outcome_rows"
    if outcomes.files:
        source += (
            f" UNION ALL SELECT prediction_id, CAST(label AS BIGINT) FROM {scan(outcomes.files)}"
        )
    return f"({source})"
