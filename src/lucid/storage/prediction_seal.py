"""Sealing the prediction log: closed rows of `prediction_log` moved into a segment.

A seal writes the rows (one model, one UTC day) as a segment file (temporary name, fsync,
rename: `PredictionSegments.stage`), then in ONE write transaction registers it and deletes
exactly those rows by id. Either the transaction commits (the segment is read, the rows are
gone) or it does not (the rows are read, the file is an orphan, deleted when possible and
never read). A row deleted meanwhile by another seal makes the count differ: the transaction
is rolled back and the file deleted. Readers take the rows and the segment list in one
snapshot (`Database.snapshot`), so no read sees a prediction twice or not at all.

A seal holds the session lock `prediction_segments` that id checks hold (see
`SqlPredictionLog.append_predictions`), so a check cannot see an id in neither store.

Shadow comparisons read their control predictions as rows (`lucid.storage.shadow`): rows of a
model whose shadow comparison is running, and rows carrying a shadow score, stay rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, select

from lucid.storage.database import Database
from lucid.storage.prediction_segments import PredictionSegments
from lucid.storage.tables import prediction_log, shadow_comparisons, shadow_scores

if TYPE_CHECKING:
    import pyarrow as pa

_DELETE = 5_000
"""Ids per DELETE statement (keeps parameter lists bounded)."""

SEGMENTS_LOCK = "prediction_segments"
"""The session lock held by id checks, segment appends and seals."""

_DAY = func.substr(prediction_log.c.served_at, 1, 10)


class _Moved(Exception):
    """Some rows being sealed are no longer rows: the seal's transaction is rolled back."""


def _sealable(before: str, model: str | None) -> Any:
    """The condition on `prediction_log` rows a seal may move: served before `before`, of
    `model` when given, without a shadow score, of no model with a running comparison."""
    running = select(shadow_comparisons.c.model).where(shadow_comparisons.c.status == "running")
    # Uncorrelated: both databases read the scored ids once (shadow_scores is keyed by
    # comparison first, so a correlated lookup by prediction id would scan it per row).
    scored = select(shadow_scores.c.prediction_id)
    condition = and_(
        prediction_log.c.served_at < before,
        prediction_log.c.model.not_in(running),
        prediction_log.c.id.not_in(scored),
    )
    if model is not None:
        condition = and_(condition, prediction_log.c.model == model)
    return condition


def sealable_days(db: Database, before: str, model: str | None) -> list[tuple[str, str]]:
    """(model, UTC day `YYYY-MM-DD`) of the rows a seal may move, served before `before`
    (canonical UTC text), oldest day first."""
    query = (
        select(prediction_log.c.model, _DAY)
        .where(_sealable(before, model))
        .group_by(prediction_log.c.model, _DAY)
        .order_by(_DAY, prediction_log.c.model)
    )
    with db.transaction() as connection:
        return [(str(m), str(day)) for m, day in connection.execute(query)]


def sealable_rows(
    db: Database, model: str, day: str, before: str, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` rows of `model` served on `day` that a seal may move, oldest first,
    as `SqlPredictionLog.insert_predictions` takes them (`features` as JSON text)."""
    query = (
        select(prediction_log)
        .where(
            _sealable(before, model),
            prediction_log.c.served_at >= f"{day}T00:00:00.000000Z",
            prediction_log.c.served_at < f"{day}T99",  # every time of the day, as text
        )
        .order_by(prediction_log.c.served_at, prediction_log.c.id)
        .limit(limit)
    )
    with db.transaction() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def seal(db: Database, segments: PredictionSegments, model: str, table: pa.Table) -> int:
    """Write `table` (rows of `model` served on one UTC day, in a batch segment's columns)
    as one segment, register it and delete its rows in one transaction; the rows sealed, or
    0 when some of them are no longer rows (nothing changed)."""
    from datetime import UTC, datetime

    from lucid.contracts.events import format_time

    if not table.num_rows:
        return 0
    ids: list[str] = table.column("id").to_pylist()
    with db.session_lock(SEGMENTS_LOCK):
        staged = segments.stage(model, table, format_time(datetime.now(UTC)))
        if len(staged) != 1:  # more than one day: not a closed day's rows
            segments.discard(staged)
            raise ValueError("a seal takes the rows of one UTC day")
        try:
            with db.write_transaction() as connection:
                segments.register_in(connection, staged)
                deleted = 0
                for start in range(0, len(ids), _DELETE):
                    chunk = ids[start : start + _DELETE]
                    # By id alone (ids are unique across the log): given `model = ?` too,
                    # SQLite walks the model's index, every prediction of the model.
                    deleted += connection.execute(
                        delete(prediction_log).where(prediction_log.c.id.in_(chunk))
                    ).rowcount
                if deleted != len(ids):
                    raise _Moved
        except _Moved:
            segments.discard(staged)
            return 0
        except BaseException:
            segments.discard(staged)
            raise
    return len(ids)
