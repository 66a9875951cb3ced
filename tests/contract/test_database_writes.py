"""Concurrent writers on one `Database` (SQLite and PostgreSQL): request threads that log
predictions and served values at once all commit, none is refused as busy, nothing is lost."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.errors import StorageUnavailable
from lucid.storage import database, schema
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import prediction_log, served_features
from tests.writer_turns import turn_held_elsewhere

THREADS, WRITES = 8, 40


def test_concurrent_write_transactions_all_commit(db: Database, event_log: SqlEventLog) -> None:
    def write(thread: int) -> None:
        for number in range(WRITES):
            with db.write_transaction() as connection:
                # Read first, then write: a deferred SQLite transaction would have to upgrade
                # its read into a write here, which fails at once when another writer won.
                connection.execute(select(func.count()).select_from(prediction_log)).scalar()
                connection.execute(
                    insert(prediction_log).values(
                        id=f"p{thread}-{number}",
                        model="churn",
                        version="1",
                        entity=f"c{number}",
                        served_at="2026-11-25T00:00:00.000000Z",
                        features="{}",
                        score=0.5,
                    )
                )
            if number % 10 == 0:  # event appends take the same writers' lock, nested
                with db.locked_transaction(EVENT_LOCK) as connection:
                    connection.execute(
                        insert(served_features).values(
                            served_at="2026-11-25T00:00:00.000000Z",
                            entity=f"c{number}",
                            feature="f@1.0.0",
                            value="1",
                            status="fresh",
                        )
                    )
                    event_log.append(
                        NewEvent.of(
                            DecisionRecorded(title="t", decision="d"),
                            actor=f"t{thread}",
                            subject=Subject.parse("model:churn"),
                            rationale="concurrency",
                        ),
                        connection=connection,
                    )

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(write, thread) for thread in range(THREADS)]:
            future.result()
    with db.transaction() as connection:
        logged = connection.execute(select(func.count()).select_from(prediction_log)).scalar()
        served = connection.execute(select(func.count()).select_from(served_features)).scalar()
    assert logged == THREADS * WRITES
    assert served == THREADS * WRITES // 10
    assert event_log.count() == THREADS * WRITES // 10 and event_log.verify().ok


def test_sqlite_writers_of_two_processes_take_turns_and_a_wait_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    schema.upgrade(db)
    with turn_held_elsewhere(db.url):
        monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 300)
        started = time.monotonic()
        with (
            pytest.raises(StorageUnavailable, match=r"held the SQLite database .* 0.3 s; nothing"),
            db.write_transaction() as connection,
        ):
            connection.execute(insert(served_features).values(**_SERVED))
        assert 0.3 <= time.monotonic() - started < 5
    with db.write_transaction() as connection:  # the turn is free again
        connection.execute(insert(served_features).values(**_SERVED))
    with db.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(served_features)).scalar() == 1
    db.dispose()


_SERVED = {
    "served_at": "2026-11-25T00:00:00.000000Z",
    "entity": "c1",
    "feature": "f@1.0.0",
    "value": "1",
    "status": "fresh",
}
