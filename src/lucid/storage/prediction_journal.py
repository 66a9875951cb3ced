"""What a serving worker writes on every prediction, on the bare driver: served feature
values, predictions (the rows' store of the prediction log) and shadow scores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from lucid.storage.database import Database
from lucid.storage.tables import (
    events,
    prediction_log,
    served_features,
    shadow_comparisons,
    shadow_scores,
)


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
