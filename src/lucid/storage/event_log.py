"""The event log on the metadata database: append under a lock, read by cursor, verify.

Only `append` and `append_many` write, and they only insert; the schema refuses UPDATE and
DELETE with triggers, so the log stays append-only even for code that bypasses this class. The
database's administrator can drop the triggers: `verify` against signed checkpoints kept
elsewhere (`lucid.jobs.anchor`) is what catches a log cut or rewritten that way.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from lucid.contracts.events import (
    GENESIS_HASH,
    ChainVerdict,
    ChainVerifier,
    NewEvent,
    RecordedEvent,
    seal,
)
from lucid.contracts.log_checkpoints import Anchor
from lucid.contracts.log_state import StateFold
from lucid.errors import InvalidInput
from lucid.storage.database import Database, advisory_key
from lucid.storage.tables import events

EVENT_LOCK = "events"
_COLUMNS = (
    events.c.seq,
    events.c.id,
    events.c.type,
    events.c.occurred_at,
    events.c.recorded_at,
    events.c.actor,
    events.c.subject,
    events.c.payload,
    events.c.rationale,
    events.c.prev_hash,
    events.c.hash,
)
_HEAD = select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
_INSERT = insert(events)
_HEAD_SQL = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"


def _insert_sql(placeholder: str) -> str:
    names = [column.name for column in _COLUMNS]
    values = ", ".join(placeholder.format(name) for name in names)
    return f"INSERT INTO events ({', '.join(names)}) VALUES ({values})"


class SqlEventLog:
    """The append-only, hash-chained event log stored in the metadata database."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] | None = None) -> None:
        """`clock`, when given, dates the events that name no `occurred_at` (the project's
        clock); without it they occurred when sealed."""
        self._db = db
        self._clock = clock
        self._insert_sql = _insert_sql(":{}" if db.is_sqlite else "%({})s")

    def append(self, new: NewEvent, *, connection: Connection | None = None) -> RecordedEvent:
        """Seal and store one event; it is durable when this returns (or when `connection`'s
        transaction commits, for a use case that stores its own state in the same transaction).
        """
        return self.append_many([new], connection=connection)[0]

    def _dated(self, news: Sequence[NewEvent]) -> Sequence[NewEvent]:
        if self._clock is None or all(new.occurred_at is not None for new in news):
            return news
        moment = self._clock()
        return [
            new if new.occurred_at is not None else dataclasses.replace(new, occurred_at=moment)
            for new in news
        ]

    def append_many(
        self, news: Sequence[NewEvent], *, connection: Connection | None = None
    ) -> list[RecordedEvent]:
        """Seal and store several events in one transaction, in the order given."""
        news = self._dated(news)
        if connection is not None:
            return self._append_in(connection, news)
        with self._db.raw_transaction(EVENT_LOCK) as cursor:
            cursor.execute(_HEAD_SQL)
            sealed = _seal_all(news, cursor.fetchone())
            cursor.executemany(self._insert_sql, [_row(event) for event in sealed])
        return sealed

    def _append_in(self, connection: Connection, news: Sequence[NewEvent]) -> list[RecordedEvent]:
        news = self._dated(news)
        if not self._db.is_sqlite:
            # Re-entrant: the caller's transaction may already hold it.
            connection.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(%(key)s)", {"key": advisory_key(EVENT_LOCK)}
            )
        sealed = _seal_all(news, connection.execute(_HEAD).first())
        if sealed:
            connection.execute(_INSERT, [_row(event) for event in sealed])
        return sealed

    def read(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        type: str | None = None,
        subject: str | None = None,
    ) -> list[RecordedEvent]:
        """Events after position `after` (the cursor), oldest first, at most `limit`."""
        if limit < 1:
            raise InvalidInput("limit", f"must be at least 1, not {limit}")
        if after < 0:
            raise InvalidInput("after", f"must be a position ≥ 0, not {after}")
        query = select(*_COLUMNS).where(events.c.seq > after).order_by(events.c.seq).limit(limit)
        if type is not None:
            query = query.where(events.c.type == type)
        if subject is not None:
            query = query.where(events.c.subject == subject)
        with self._db.transaction() as connection:
            return [RecordedEvent(*row) for row in connection.execute(query)]

    def count(self) -> int:
        """How many events the log holds."""
        with self._db.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())

    def head(self) -> RecordedEvent | None:
        """The latest event, or None for an empty log."""
        with self._db.transaction() as connection:
            row = connection.execute(
                select(*_COLUMNS).order_by(events.c.seq.desc()).limit(1)
            ).first()
        return RecordedEvent(*row) if row else None

    def scan(self, batch: int = 10_000) -> Iterator[RecordedEvent]:
        """Every event in chain order, read in pages of `batch` positions."""
        for row in self._scan_rows(batch):
            yield RecordedEvent(*row)

    def _scan_rows(self, batch: int) -> Iterator[tuple[Any, ...]]:
        # The bare driver: verifying a long log is bound by decoding rows.
        names = ", ".join(column.name for column in _COLUMNS)
        placeholder = ":after" if self._db.is_sqlite else "%(after)s"
        page_sql = (
            f"SELECT {names} FROM events WHERE seq > {placeholder} ORDER BY seq LIMIT {int(batch)}"
        )
        after = 0
        while True:
            with self._db.raw_transaction() as cursor:
                cursor.execute(page_sql, {"after": after})
                rows = cursor.fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def verify(
        self, anchors: Iterable[Anchor] = (), *, state: StateFold | None = None
    ) -> ChainVerdict:
        """Recompute every hash and link, and compare with `anchors` (accepted checkpoints);
        the verdict names the first bad event. `state`, when given, folds the same events."""
        verifier = ChainVerifier(anchors)
        for row in self._scan_rows(10_000):
            if not verifier.feed_row(row):
                break
            if state is not None:
                state.feed_row(row)
        return verifier.verdict()


def _seal_all(news: Sequence[NewEvent], head: Sequence[Any] | None) -> list[RecordedEvent]:
    """Seal `news` in order after the chain head `(seq, hash)` (None for an empty log)."""
    seq, prev_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    recorded_at = datetime.now(UTC)
    sealed: list[RecordedEvent] = []
    for new in news:
        seq += 1
        event = seal(
            new, seq=seq, id=str(uuid.uuid4()), recorded_at=recorded_at, prev_hash=prev_hash
        )
        sealed.append(event)
        prev_hash = event.hash
    return sealed


def _row(event: RecordedEvent) -> dict[str, object]:
    return {
        "seq": event.seq,
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "actor": event.actor,
        "subject": event.subject,
        "payload": event.payload_json,
        "rationale": event.rationale,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
