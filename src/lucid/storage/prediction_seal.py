"""Sealing the prediction log: closed rows of `prediction_log` (and `outcome_log`) moved into
a segment.

A seal writes the rows (one model, one UTC day) as a segment file (temporary name, fsync,
rename: `PredictionSegments.stage`), then in ONE write transaction registers it and deletes
exactly those rows by id. Either the transaction commits (the segment is read, the rows are
gone) or it does not (the rows are read, the file is an orphan, deleted when possible and
never read). A row deleted meanwhile by another seal makes the count differ: the transaction
is rolled back and the file deleted. Readers take the rows and the segment list in one
snapshot (`Database.snapshot`), so no read sees a prediction twice or not at all.

A seal holds the session lock `prediction_segments` that id checks hold (see
`SqlPredictionLog.append_predictions`), so a check cannot see an id in neither store.

Outcomes are sealed the same way (`seal_outcomes`): the outcome rows of one model logged on
one ended UTC day become an outcome segment (`lucid.storage.outcome_segments`), registered
and deleted in one transaction under the same lock.

Every row of an ended day is sealed, shadow-scored predictions and their outcomes too: shadow
pairs read both stores (`lucid.storage.shadow`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, and_, delete, func, select

from lucid.contracts.events import format_time
from lucid.storage.database import Database
from lucid.storage.outcome_segments import OutcomeSegments, outcome_table
from lucid.storage.prediction_segments import PredictionSegments, SegmentRegistry, Staged
from lucid.storage.tables import outcome_log, prediction_log

if TYPE_CHECKING:
    import pyarrow as pa

_DELETE = 5_000
"""Ids per DELETE statement (keeps parameter lists bounded)."""

SEGMENTS_LOCK = "prediction_segments"
"""The session lock held by id checks, segment appends and seals."""


class _Moved(Exception):
    """Some rows being sealed are no longer rows: the seal's transaction is rolled back."""


def _sealable(table: Table, before: str, model: str | None) -> Any:
    """The condition on rows of `table` (`prediction_log` or `outcome_log`) a seal may move:
    served (logged) before `before`, of `model` when given."""
    condition = _columns(table)[0] < before
    if model is not None:
        condition = and_(condition, table.c.model == model)
    return condition


def _columns(table: Table) -> tuple[Any, Any]:
    """The time a row of `table` is sealed by and its prediction id."""
    if table is outcome_log:
        return outcome_log.c.logged_at, outcome_log.c.prediction_id
    return prediction_log.c.served_at, prediction_log.c.id


def sealable_days(
    db: Database, before: str, model: str | None, table: Table = prediction_log
) -> list[tuple[str, str]]:
    """(model, UTC day `YYYY-MM-DD`) of the rows of `table` a seal may move, served (logged)
    before `before` (canonical UTC text), oldest day first."""
    day = func.substr(_columns(table)[0], 1, 10)
    query = (
        select(table.c.model, day)
        .where(_sealable(table, before, model))
        .group_by(table.c.model, day)
        .order_by(day, table.c.model)
    )
    with db.transaction() as connection:
        return [(str(m), str(d)) for m, d in connection.execute(query)]


def sealable_rows(
    db: Database,
    model: str,
    day: str,
    before: str,
    limit: int,
    table: Table = prediction_log,
) -> list[dict[str, Any]]:
    """Up to `limit` rows of `table` of `model` served (logged) on `day` that a seal may
    move, oldest first, as they are stored (`features` as JSON text)."""
    moment, prediction = _columns(table)
    query = (
        select(table)
        .where(
            _sealable(table, before, model),
            moment >= f"{day}T00:00:00.000000Z",
            moment < f"{day}T99",  # every time of the day, as text
        )
        .order_by(moment, prediction)
        .limit(limit)
    )
    with db.transaction() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def seal_outcomes(
    db: Database, segments: OutcomeSegments, model: str, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Write outcome `rows` of `model` (as `sealable_rows` gives them) as one segment,
    register it and delete the rows in one transaction; the rows sealed, or 0 when some of
    them are no longer rows (nothing changed)."""
    if not rows:
        return 0
    table = outcome_table(rows)
    return seal_rows(
        db,
        segments,
        lambda created_at: [segments.stage(model, table, created_at)],
        outcome_log.c.prediction_id,
        [str(row["prediction_id"]) for row in rows],
    )


def seal(db: Database, segments: PredictionSegments, model: str, table: pa.Table) -> int:
    """Write `table` (rows of `model` served on one UTC day, in a batch segment's columns)
    as one segment, register it and delete its rows in one transaction; the rows sealed, or
    0 when some of them are no longer rows (nothing changed)."""
    if not table.num_rows:
        return 0

    def one_day(created_at: str) -> list[Staged]:
        staged = segments.stage(model, table, created_at)
        if len(staged) != 1:  # more than one day: not a closed day's rows
            segments.discard(staged)
            raise ValueError("a seal takes the rows of one UTC day")
        return staged

    return seal_rows(db, segments, one_day, prediction_log.c.id, table.column("id").to_pylist())


def seal_rows(
    db: Database,
    segments: SegmentRegistry,
    stage: Callable[[str], list[Staged]],
    key: Any,
    ids: list[Any],
) -> int:
    """Under the segments' lock, write the segment `stage` makes (given the creation time),
    then in one write transaction register it and delete the rows whose `key` is in `ids`;
    `len(ids)`, or 0 when some of those rows are no longer rows (nothing changed). On any
    failure the segment is discarded."""
    with db.session_lock(SEGMENTS_LOCK):
        staged = stage(format_time(datetime.now(UTC)))
        try:
            with db.write_transaction() as connection:
                segments.register_in(connection, staged)
                deleted = 0
                for start in range(0, len(ids), _DELETE):
                    chunk = ids[start : start + _DELETE]
                    # By id alone (ids are unique across the log): given `model = ?` too,
                    # SQLite walks the model's index, every prediction of the model.
                    deleted += connection.execute(delete(key.table).where(key.in_(chunk))).rowcount
                if deleted != len(ids):
                    raise _Moved
        except _Moved:
            segments.discard(staged)
            return 0
        except BaseException:
            segments.discard(staged)
            raise
    return len(ids)
