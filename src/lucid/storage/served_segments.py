"""The columnar part of the served feature values' log: immutable Parquet segments under the
prediction log's folder, one UTC day of serving each (`served/day=<YYYY-MM-DD>/<id>.parquet`).

A seal (`seal_served`) writes the `served_features` rows of one ended UTC day, by id, as a
segment by the prediction segments' write rule (`lucid.storage.prediction_segments`:
temporary name, fsync, rename), then in ONE write transaction registers it (one row of
`served_segments`: rows, SHA-256, id range, served-at range) and deletes exactly those rows
(`lucid.storage.prediction_seal`'s rule, under its lock). A file without a committed
registration is an orphan and is never read.

A segment holds the rows' own columns as they were stored: `id` (the value's position, an
integer), `served_at`, `entity`, `feature`, `value` (JSON text), `as_of` and `status`
(text), ordered by id. Ids never go back: a seal never moves the row of the largest id, so
SQLite, which gives a new row the largest rowid plus one, never gives a sealed id again
(PostgreSQL's sequence never does), and a position range reads the same values before and
after a seal. That row is sealed by a later seal, once a value has been served after it.

Readers (`SqlFeatureRepository`) read the rows, then the registry, and read again when the
registry's count moved in between (a seal committed meanwhile): the registry only grows and a
seal commits its registration and its deletion together, so a read sees each value once on
every database, even in a READ COMMITTED transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, and_, func, select

from lucid.storage.database import Database
from lucid.storage.prediction_seal import seal_rows
from lucid.storage.prediction_segments import (
    SegmentRegistry,
    Staged,
    altered_files,
    scan,
    write_file,
)
from lucid.storage.tables import served_features, served_segments

if TYPE_CHECKING:
    import pyarrow as pa

FOLDER = "served"
"""The served segments' folder under the prediction log's."""

COLUMNS = ("id", "served_at", "entity", "feature", "value", "as_of", "status")
"""A served segment's columns, in order: `served_features`' own."""


def served_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """`served_features` rows (as stored) in a segment's columns, ordered by id."""
    import pyarrow as pa

    ordered = sorted(rows, key=lambda row: int(row["id"]))
    columns: dict[str, Any] = {"id": pa.array([int(r["id"]) for r in ordered], pa.int64())}
    for name in COLUMNS[1:]:
        columns[name] = pa.array([r[name] for r in ordered], pa.string())
    return pa.table(columns)


class ServedSegments(SegmentRegistry):
    """The registered served segments kept in `root` (the prediction log's folder)."""

    registry = served_segments

    def stage(self, table: pa.Table, created_at: str) -> Staged:
        """Write `table` (served values of one UTC day, in `served_table`'s columns) as one
        segment file, not yet registered (so not yet read)."""
        import pyarrow.compute as pc

        ids = pc.min_max(table.column("id"))
        served = pc.min_max(table.column("served_at"))
        first, last = str(served["min"].as_py()), str(served["max"].as_py())
        if first[:10] != last[:10]:
            raise ValueError("a served segment holds the values of one UTC day")
        segment = str(uuid.uuid4())
        relative = f"{FOLDER}/day={first[:10]}/{segment}.parquet"
        text = ["served_at", "feature", "as_of", "status"]
        sha256, final = write_file(self.root / relative, table, text)
        row = {
            "id": segment,
            "day": first[:10],
            "path": relative,
            "rows": table.num_rows,
            "sha256": sha256,
            "first_id": int(ids["min"].as_py()),
            "last_id": int(ids["max"].as_py()),
            "first_served_at": first,
            "last_served_at": last,
            "created_at": created_at,
        }
        return row, final

    def altered(self) -> list[str]:
        """The registered served segments (paths relative to the log's folder) whose bytes
        are missing or no longer hash to their registered SHA-256."""
        return altered_files(self.db, self.root, served_segments, None)


def segment_query(
    *, after: int = 0, until: int | None = None, since: str | None = None
) -> Select[Any]:
    """The registered paths of the segments that may hold values with an id in
    (after, until] served at or after `since` (canonical UTC text), by first id."""
    query = select(served_segments.c.path).order_by(
        served_segments.c.first_id, served_segments.c.id
    )
    if after:
        query = query.where(served_segments.c.last_id > after)
    if until is not None:
        query = query.where(served_segments.c.first_id <= until)
    if since is not None:
        query = query.where(served_segments.c.last_served_at >= since)
    return query


def segment_count(connection: Connection) -> int:
    """How many served segments are registered, read on `connection`."""
    return int(connection.execute(select(func.count()).select_from(served_segments)).scalar_one())


def segment_paths(root: Path | None, connection: Connection, query: Select[Any]) -> list[str]:
    """The absolute paths of the segments `query` selects; refused when there are some and
    no log folder is known."""
    if root is None:
        if connection.execute(query.limit(1)).first() is None:
            return []
        raise RuntimeError(
            "served values are sealed in segments, and this unit of work knows no log folder"
        )
    return [str(root / path) for path in connection.execute(query).scalars()]


def scan_segments(
    files: Sequence[str],
    *,
    select_list: str,
    after: int = 0,
    until: int | None = None,
    since: str | None = None,
    features: Sequence[str] | None = None,
    order: str = "",
) -> list[tuple[Any, ...]]:
    """`select_list` over the segment `files`' rows with an id in (after, until], served at
    or after `since`, of `features` when given, through DuckDB."""
    import duckdb

    conditions, params = ["s.id > $after"], dict[str, Any](after=after)
    if until is not None:
        conditions.append("s.id <= $until")
        params["until"] = until
    if since is not None:
        conditions.append("s.served_at >= $since")
        params["since"] = since
    if features is not None:
        conditions.append("list_contains($features, s.feature)")
        params["features"] = list(features)
    sql = f"SELECT {select_list} FROM {scan(files)} s WHERE {' AND '.join(conditions)} {order}"
    with duckdb.connect() as connection:
        return connection.execute(sql, params).fetchall()


def _sealable(before: str) -> Any:
    """The condition on the rows a seal may move: served before `before`, and not the row of
    the largest id, which keeps SQLite's next id (the largest rowid plus one) above every
    sealed one."""
    last = select(func.max(served_features.c.id)).scalar_subquery()
    return and_(served_features.c.served_at < before, served_features.c.id < last)


def sealable_days(db: Database, before: str) -> list[str]:
    """The UTC days (`YYYY-MM-DD`) of the served values a seal may move, oldest first."""
    day = func.substr(served_features.c.served_at, 1, 10)
    query = select(day).where(_sealable(before)).group_by(day).order_by(day)
    with db.transaction() as connection:
        return [str(found) for found in connection.execute(query).scalars()]


def sealable_rows(db: Database, day: str, before: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` served values of `day` a seal may move, by id, as stored."""
    moment = served_features.c.served_at
    query = (
        select(served_features)
        .where(_sealable(before), moment >= f"{day}T00:00:00.000000Z", moment < f"{day}T99")
        .order_by(served_features.c.id)
        .limit(limit)
    )
    with db.transaction() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def seal_served(db: Database, segments: ServedSegments, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write served `rows` (of one UTC day, as `sealable_rows` gives them) as one segment,
    register it and delete the rows in one transaction; the rows sealed, or 0 when some of
    them are no longer rows (nothing changed)."""
    if not rows:
        return 0
    table = served_table(rows)
    return seal_rows(
        db,
        segments,
        lambda created_at: [segments.stage(table, created_at)],
        served_features.c.id,
        [int(row["id"]) for row in rows],
    )
