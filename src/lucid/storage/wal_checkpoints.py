"""SQLite WAL checkpoints on a thread of their own, for a process that commits on its event
loop (a serving worker).

A checkpoint copies the WAL's pages into the database file and syncs it: milliseconds of
disk, which SQLite's automatic checkpoint spends inside the commit that crosses its page
count, while the committing worker's loop, and the other workers queued on the writers'
turn, wait. `Checkpointer` runs SQLite's PASSIVE checkpoint every `CHECKPOINT_EVERY_S` on
its own connection instead: it takes no write lock and never waits for a reader or a
writer, and the driver releases the interpreter lock while SQLite works, so the loop goes
on answering. Commits keep their durability: a commit is in the WAL, checkpointed or not.

A writer starts the WAL over only once every frame in it is checkpointed, which commits
landing during each checkpoint would put off for ever: once the WAL holds `REWIND_FRAMES`,
the checkpointer copies what the last commits added while it holds the writers' turn, so
the next writer starts the WAL over.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from lucid.errors import StorageUnavailable

CHECKPOINT_EVERY_S = 0.1
"""Seconds between two checkpoints of a serving worker's metadata database."""
REWIND_FRAMES = 1000
"""WAL frames (pages) past which a checkpoint finishes under the writers' turn (SQLite's own
automatic checkpoint runs at 1,000)."""


class Checkpointer:
    """A daemon thread checkpointing the WAL of the SQLite database at `path` until `stop`;
    `turn` is the database's writers' turn (`Database._writer`)."""

    def __init__(
        self,
        path: str,
        turn: Callable[[], AbstractContextManager[object]],
        every: float = CHECKPOINT_EVERY_S,
    ) -> None:
        self._path = path
        self._turn = turn
        self._every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lucid-wal-checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopped.wait(self._every):
                try:
                    _, frames, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames >= REWIND_FRAMES:
                        with self._turn():
                            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except (sqlite3.Error, StorageUnavailable):
                    continue  # busy, or the turn held too long: the next round tries again
        finally:
            connection.close()

    def stop(self) -> None:
        """End the thread once its checkpoint in progress, if any, is done."""
        self._stopped.set()
        self._thread.join()
