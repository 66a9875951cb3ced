"""Stakeholder digests and their delivery attempts in the metadata database.

A digest is stored once per (model, reporting period) with its content fixed; `sent_at`
stays NULL until every channel took it or used up its attempts. Each attempt is a row and
an event in one transaction, and marking the digest sent writes `DigestSent` with it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update

from lucid.contracts.digests import DigestRecord
from lucid.contracts.events import NewEvent
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import digest_deliveries, monitoring_digests


def _digest(row: Any) -> DigestRecord:
    return DigestRecord(**{**dict(row), "content": json.loads(row["content"])})


class SqlDigestStore:
    """Digests, each change with its event when it is a decision (attempts, sending)."""

    def __init__(self, db: Database, events: SqlEventLog) -> None:
        self.db = db
        self.events = events

    def find(self, model: str, period: str) -> DigestRecord | None:
        with self.db.transaction() as connection:
            row = (
                connection.execute(
                    select(monitoring_digests).where(
                        monitoring_digests.c.model == model, monitoring_digests.c.period == period
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _digest(row)

    def digests(self, model: str | None = None, *, pending: bool = False) -> list[DigestRecord]:
        query = select(monitoring_digests).order_by(monitoring_digests.c.created_at)
        if model is not None:
            query = query.where(monitoring_digests.c.model == model)
        if pending:
            query = query.where(monitoring_digests.c.sent_at.is_(None))
        with self.db.transaction() as connection:
            return [_digest(row) for row in connection.execute(query).mappings()]

    def create(self, digest: DigestRecord) -> DigestRecord:
        """Store a new digest; the one already stored for its period when there is one."""
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            row = (
                connection.execute(
                    select(monitoring_digests).where(
                        monitoring_digests.c.model == digest.model,
                        monitoring_digests.c.period == digest.period,
                    )
                )
                .mappings()
                .first()
            )
            if row is not None:
                return _digest(row)
            values = digest.to_dict()
            values["content"] = json.dumps(digest.content, sort_keys=True)
            connection.execute(insert(monitoring_digests).values(**values))
        return digest

    def attempts_made(self, digest_id: str) -> dict[str, tuple[int, bool]]:
        """Channel → (attempts recorded, delivered) for the digest."""
        with self.db.transaction() as connection:
            rows = connection.execute(
                select(digest_deliveries.c.channel, digest_deliveries.c.delivered).where(
                    digest_deliveries.c.digest_id == digest_id
                )
            ).all()
        made: dict[str, tuple[int, bool]] = {}
        for channel, delivered in rows:
            count, ok = made.get(channel, (0, False))
            made[channel] = (count + 1, ok or bool(delivered))
        return made

    def deliveries(self, digest_id: str) -> list[dict[str, Any]]:
        with self.db.transaction() as connection:
            rows = connection.execute(
                select(digest_deliveries)
                .where(digest_deliveries.c.digest_id == digest_id)
                .order_by(digest_deliveries.c.id)
            ).mappings()
            return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    def record_attempt(self, values: dict[str, Any], event: NewEvent) -> None:
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            connection.execute(insert(digest_deliveries).values(**values))
            self.events.append(event, connection=connection)

    def mark_sent(self, digest_id: str, at: str, event: NewEvent) -> bool:
        """Mark the digest sent with its `DigestSent` event; False (nothing written) when it
        already was."""
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            changed = connection.execute(
                update(monitoring_digests)
                .where(monitoring_digests.c.id == digest_id, monitoring_digests.c.sent_at.is_(None))
                .values(sent_at=at)
            ).rowcount
            if changed != 1:
                return False
            self.events.append(event, connection=connection)
        return True
