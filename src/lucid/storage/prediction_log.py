"""Logged predictions and their outcomes in the metadata database (SQLite or PostgreSQL).

Rows are validated by `lucid.monitoring.predictions` before they reach here; this module only
writes them in bulk (one multi-row INSERT per call) and reads windows back. Times are
canonical UTC text, so windows compare as text on every backend. `SqlPredictionJournal` is
the serving hot path's part: its statements run on the bare driver.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, func, insert, select

from lucid.storage.database import Database
from lucid.storage.tables import (
    events,
    outcome_log,
    prediction_log,
    served_features,
    shadow_comparisons,
    shadow_scores,
)

_BATCH = 5_000
"""Rows per INSERT statement and entities per lookup (keeps parameter lists bounded)."""


@dataclass(frozen=True, slots=True)
class WindowRow:
    """One prediction of a window with its outcome, if one arrived."""

    id: str
    version: str
    entity: str
    served_at: str
    features: str
    score: float
    arm: str | None
    label: int | None


class SqlPredictionLog:
    """Predictions served and outcomes observed, per model."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert validated prediction rows in one transaction; an existing id refuses all."""
        with self.db.write_transaction() as connection:
            for start in range(0, len(rows), _BATCH):
                connection.execute(insert(prediction_log), list(rows[start : start + _BATCH]))

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are already logged predictions."""
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.db.transaction() as connection:
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start : start + _BATCH]
                found.update(
                    connection.execute(
                        select(prediction_log.c.id).where(prediction_log.c.id.in_(chunk))
                    ).scalars()
                )
        return found

    def predictions_by_id(self, model: str, ids: Iterable[str]) -> dict[str, str]:
        """Prediction id → served_at, for the ids of `model` that exist."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        with self.db.transaction() as connection:
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start : start + _BATCH]
                # Looked up by id alone, the model compared here: given `model = ?` too,
                # SQLite walks the model's index, every prediction of the model.
                query = select(
                    prediction_log.c.id, prediction_log.c.served_at, prediction_log.c.model
                ).where(prediction_log.c.id.in_(chunk))
                found.update(
                    (i, served_at) for i, served_at, of in connection.execute(query) if of == model
                )
        return found

    def latest_before(self, model: str, wanted: Sequence[tuple[str, str, str]]) -> list[str | None]:
        """For each (entity, earliest, latest) the id of the entity's latest prediction served
        in [earliest, latest], or None: the entity join rule of outcomes."""
        entities = sorted({entity for entity, _, _ in wanted})
        by_entity: dict[str, tuple[list[str], list[str]]] = {}
        low = min((earliest for _, earliest, _ in wanted), default="")
        with self.db.transaction() as connection:
            for start in range(0, len(entities), _BATCH):
                chunk = entities[start : start + _BATCH]
                rows = connection.execute(
                    select(prediction_log.c.entity, prediction_log.c.served_at, prediction_log.c.id)
                    .where(
                        prediction_log.c.model == model,
                        prediction_log.c.entity.in_(chunk),
                        prediction_log.c.served_at >= low,
                    )
                    .order_by(prediction_log.c.entity, prediction_log.c.served_at)
                )
                for entity, served_at, prediction_id in rows:
                    times, ids = by_entity.setdefault(entity, ([], []))
                    times.append(served_at)
                    ids.append(prediction_id)
        found: list[str | None] = []
        for entity, earliest, latest in wanted:
            times, ids = by_entity.get(entity, ([], []))
            index = bisect.bisect_right(times, latest) - 1
            found.append(ids[index] if index >= 0 and times[index] >= earliest else None)
        return found

    def outcomes_of(self, ids: Iterable[str]) -> dict[str, int]:
        """Prediction id → label already logged, for the ids that have one."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, int] = {}
        with self.db.transaction() as connection:
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start : start + _BATCH]
                query = select(outcome_log.c.prediction_id, outcome_log.c.label).where(
                    outcome_log.c.prediction_id.in_(chunk)
                )
                found.update(dict(connection.execute(query).all()))
        return found

    def insert_outcomes(
        self, rows: Sequence[Mapping[str, Any]], connection: Connection | None = None
    ) -> None:
        if connection is not None:
            for start in range(0, len(rows), _BATCH):
                connection.execute(insert(outcome_log), list(rows[start : start + _BATCH]))
            return
        with self.db.transaction() as opened:
            self.insert_outcomes(rows, opened)

    def arms_of(self, model: str, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[str, str | None]] = {}
        with self.db.transaction() as connection:
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
        return found

    def window(
        self, model: str, start: str, end: str, version: str | None = None
    ) -> list[WindowRow]:
        """Predictions of `model` served in [start, end) (of `version` when given), with
        their outcomes, oldest first."""
        query = (
            select(
                prediction_log.c.id,
                prediction_log.c.version,
                prediction_log.c.entity,
                prediction_log.c.served_at,
                prediction_log.c.features,
                prediction_log.c.score,
                prediction_log.c.arm,
                outcome_log.c.label,
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
        with self.db.transaction() as connection:
            return [WindowRow(*row) for row in connection.execute(query)]

    def latest_version(self, model: str, start: str, end: str) -> str | None:
        """The version of the latest prediction of `model` served in [start, end)."""
        with self.db.transaction() as connection:
            return connection.execute(
                select(prediction_log.c.version)
                .where(
                    prediction_log.c.model == model,
                    prediction_log.c.served_at >= start,
                    prediction_log.c.served_at < end,
                )
                .order_by(prediction_log.c.served_at.desc())
                .limit(1)
            ).scalar_one_or_none()

    def counts(self, model: str) -> tuple[int, int]:
        """(predictions, outcomes) logged for `model`."""
        with self.db.transaction() as connection:
            predictions = connection.execute(
                select(func.count()).where(prediction_log.c.model == model)
            ).scalar_one()
            outcomes = connection.execute(
                select(func.count()).where(outcome_log.c.model == model)
            ).scalar_one()
        return int(predictions), int(outcomes)


class SqlPredictionJournal:
    """What a serving worker reads and writes on every prediction, on the bare driver:
    SQLAlchemy's per-row parameter handling cost more than SQLite's writing the rows.

    `latest_event` is the position of the latest event of the types given (what a worker
    watches to drop what it kept); `write` stores the served feature values, the predictions
    and the challengers' shadow scores of a batch of requests in one transaction. A shadow
    score is stored only while its comparison runs (checked by the INSERT itself: a comparison
    concluded since the request was routed takes no more scores)."""

    def __init__(self, db: Database, watched_events: Sequence[str]) -> None:
        self._db = db
        self._marker = "?" if db.is_sqlite else "%s"
        names = ", ".join(f"'{name}'" for name in watched_events)
        self._latest = f"SELECT max(seq) FROM {events.name} WHERE type IN ({names})"

    def latest_event(self) -> int:
        """The position of the latest watched event; 0 when there is none."""
        return int(self._db.read_scalar(self._latest) or 0)

    def write(
        self,
        served: Sequence[Mapping[str, Any]],
        predictions: Sequence[Mapping[str, Any]],
        shadow: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Store the rows in a write transaction of their own."""
        with self._db.raw_write_transaction() as cursor:
            for sql, rows in self._inserts(served, predictions, shadow):
                cursor.executemany(sql, rows)

    def write_in(
        self,
        connection: Connection,
        served: Sequence[Mapping[str, Any]],
        predictions: Sequence[Mapping[str, Any]],
        shadow: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Store the rows in the transaction of `connection`."""
        for sql, rows in self._inserts(served, predictions, shadow):
            connection.exec_driver_sql(sql, rows)

    def _inserts(
        self,
        served: Sequence[Mapping[str, Any]],
        predictions: Sequence[Mapping[str, Any]],
        shadow: Sequence[Mapping[str, Any]],
    ) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        """The driver's own INSERTs of the rows (dicts, one column per key), as tuples; the
        shadow scores (comparison_id, prediction_id, score) of running comparisons only."""
        yield from self._plain_inserts(served, predictions)
        if shadow:
            mark = self._marker
            yield (
                f"INSERT INTO {shadow_scores.name} (comparison_id, prediction_id, score) "
                f"SELECT {mark}, {mark}, {mark} WHERE EXISTS (SELECT 1 FROM "
                f"{shadow_comparisons.name} WHERE id = {mark} AND status = 'running')",
                [
                    (row["comparison_id"], row["prediction_id"], row["score"], row["comparison_id"])
                    for row in shadow
                ],
            )

    def _plain_inserts(
        self, served: Sequence[Mapping[str, Any]], predictions: Sequence[Mapping[str, Any]]
    ) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        for table, rows in ((served_features, served), (prediction_log, predictions)):
            if rows:
                columns = list(rows[0])
                values = itemgetter(*columns)
                yield (
                    f"INSERT INTO {table.name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join([self._marker] * len(columns))})",
                    [values(row) for row in rows],
                )
