"""The scheduler's heartbeat: the last tick of each scheduler, overwritten at every tick.

A heartbeat is operational, not a decision: it has no event (the tick's own work — runs,
alerts, digests, checkpoints — records its events). `/readyz` and `/metrics` read it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert, select

from lucid.storage.database import Database
from lucid.storage.tables import scheduler_ticks


def record_tick(
    db: Database, name: str, holder: str, at: str, seconds: float, summary: dict[str, Any]
) -> None:
    with db.transaction() as connection:
        connection.execute(delete(scheduler_ticks).where(scheduler_ticks.c.name == name))
        connection.execute(
            insert(scheduler_ticks).values(
                name=name,
                holder=holder,
                ticked_at=at,
                seconds=seconds,
                summary=json.dumps(summary, sort_keys=True),
            )
        )


def last_tick(db: Database, name: str) -> dict[str, Any] | None:
    """{holder, ticked_at, seconds, summary} of the scheduler's last tick, or None."""
    with db.transaction() as connection:
        row = (
            connection.execute(select(scheduler_ticks).where(scheduler_ticks.c.name == name))
            .mappings()
            .first()
        )
    if row is None:
        return None
    return {**dict(row), "summary": json.loads(row["summary"])}
