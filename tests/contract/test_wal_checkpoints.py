"""SQLite's WAL checkpointed on a thread (`lucid.storage.wal_checkpoints`), as a serving worker
does: its commits never checkpoint, the WAL stays short under a steady stream of commits, a
reader on old frames blocks neither writers nor the thread, and nothing committed is lost."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.tables import served_features
from lucid.storage.wal_checkpoints import Checkpointer

PAYLOAD = "x" * 2000  # a row of about half a page: each commit adds a page or two to the WAL


def _commit(db: Database, number: int) -> None:
    with db.raw_write_transaction() as cursor:
        cursor.execute(
            "INSERT INTO served_features (served_at, entity, feature, value, status) "
            "VALUES (?, ?, ?, ?, ?)",
            ("2026-11-25T00:00:00.000000Z", f"c{number}", "f@1.0.0", PAYLOAD, "fresh"),
        )


def _rows(db: Database) -> int:
    with db.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(served_features)).scalar())


def _database(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "metadata.db"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    return db, path


def test_a_serving_process_commits_without_checkpointing_and_its_wal_stays_short(
    tmp_path: Path,
) -> None:
    db, path = _database(tmp_path)
    checkpointer = db.checkpoint_in_background()
    assert checkpointer is not None
    assert db.read_scalar("PRAGMA wal_autocheckpoint") == 0
    commits, largest = 3000, 0
    for number in range(commits):  # a worker's pace: commits a fraction of a ms apart
        _commit(db, number)
        time.sleep(0.0003)
        if number % 100 == 0:
            largest = max(largest, (tmp_path / "metadata.db-wal").stat().st_size)
    written = commits * 4096  # at least a page a commit went through the WAL
    assert checkpointer.rewinds > 0
    assert largest < written / 3, f"the WAL reached {largest:,} bytes of {written:,} written"
    assert _rows(db) == commits
    db.dispose()
    assert not any(thread.name == "lucid-wal-checkpoint" for thread in threading.enumerate())
    reopened = Database(f"sqlite:///{path}")
    assert _rows(reopened) == commits
    reopened.dispose()


def test_a_reader_on_old_frames_blocks_neither_commits_nor_the_thread(tmp_path: Path) -> None:
    db, path = _database(tmp_path)
    turn = threading.Lock()
    checkpointer = Checkpointer(str(path), lambda: turn, every_s=3600, rewind_pages=1)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        _commit(db, 0)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM served_features").fetchone() == (1,)
        for number in range(1, 50):
            _commit(db, number)
        checkpointer.checkpoint()  # the reader holds frames back: copied only up to them
        assert checkpointer.rewinds == 0
        assert not turn.locked()
        _commit(db, 50)  # writers go on
        assert reader.execute("SELECT count(*) FROM served_features").fetchone() == (1,)
        reader.execute("COMMIT")
        checkpointer.checkpoint()
        assert checkpointer.rewinds == 1
        _commit(db, 51)  # writes the WAL from its start
        assert _rows(db) == 52
        assert reader.execute("SELECT count(*) FROM served_features").fetchone() == (52,)
    finally:
        reader.close()
        checkpointer.stop()
        db.dispose()


def test_a_database_in_memory_has_no_checkpoint_thread() -> None:
    db = Database("sqlite://")
    assert db.checkpoint_in_background() is None
    assert not any(thread.name == "lucid-wal-checkpoint" for thread in threading.enumerate())
    db.dispose()


def test_the_thread_starts_once_per_database(tmp_path: Path) -> None:
    db, _ = _database(tmp_path)
    first = db.checkpoint_in_background()
    assert first is not None and db.checkpoint_in_background() is first
    assert sum(thread.name == "lucid-wal-checkpoint" for thread in threading.enumerate()) == 1
    with db.write_transaction() as connection:
        connection.execute(
            insert(served_features).values(
                served_at="2026-11-25T00:00:00.000000Z",
                entity="c1",
                feature="f@1.0.0",
                value="1",
                status="fresh",
            )
        )
    db.dispose()
    assert _rows(Database(f"sqlite:///{tmp_path / 'metadata.db'}")) == 1
