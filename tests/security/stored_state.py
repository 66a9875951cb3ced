"""What an attack must leave as it found it: the row count of every metadata table and the
event log's verdict, compared before and after (`unchanged`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, inspect, select, table

from lucid.bootstrap import Lucid


@dataclass(frozen=True)
class StoredState:
    rows: dict[str, int]
    events: int
    chain_ok: bool


def stored_state(lucid: Lucid) -> StoredState:
    """Row counts of every table of the project's metadata database, and its chain verdict."""
    engine = lucid.db.engine
    names = sorted(inspect(engine).get_table_names())
    with engine.connect() as connection:
        rows = {
            name: int(connection.execute(select(func.count()).select_from(table(name))).scalar())
            for name in names
        }
    verdict = lucid.events.verify()
    return StoredState(rows, verdict.events, verdict.ok)


@contextmanager
def unchanged(lucid: Lucid) -> Iterator[StoredState]:
    """Assert that the block changes no row count and leaves a chain that verifies."""
    before = stored_state(lucid)
    assert before.chain_ok, "the event log must verify before the attack"
    yield before
    after = stored_state(lucid)
    changed = {
        name: (before.rows.get(name), count)
        for name, count in after.rows.items()
        if before.rows.get(name) != count
    }
    assert not changed, f"stored rows changed: {changed}"
    assert after.events == before.events and after.chain_ok
