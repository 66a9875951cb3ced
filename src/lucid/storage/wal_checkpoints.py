"""SQLite's WAL checkpointed on a thread of its own, not in the commit of a serving worker.

By default SQLite checkpoints in the commit that makes the WAL reach `wal_autocheckpoint`
pages: that commit copies the WAL into the database file and syncs it, while its writer and
every writer queued behind it wait. A serving worker commits predictions on its event loop,
so the loop waited too (`bench/wal_checkpoints.py`).

`Checkpointer` turns the process's automatic checkpoints off and runs them on a thread:
- a passive checkpoint every `every_s`: it copies and syncs what was committed while writers
  go on committing (SQLite runs a passive checkpoint beside writers and readers);
- a passive checkpoint leaves the WAL's frames in place, and a writer rewinds the WAL only
  if it starts once every frame is copied; under a steady stream of commits that moment may
  never come and the WAL grows without end. Once a passive checkpoint has copied every frame
  and the WAL holds `rewind_pages` pages or more, the thread therefore takes the writers'
  turn (`writer_turn`), so no commit is under way, and asks for a restart checkpoint: with
  nothing left to copy it syncs nothing, and the next writer writes the WAL from its start.
  Its connection does not wait on a busy database (a reader still on old frames): it tries
  again at the next turn, never holding the writers' turn for longer than the try.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

CHECKPOINT_EVERY_S = 0.02
"""Seconds between two passive checkpoints of a serving worker's thread."""

REWIND_PAGES = 200
"""WAL pages from which a fully copied WAL is rewound to its start."""

_log = logging.getLogger("lucid.storage")


class Checkpointer:
    """A daemon thread checkpointing one SQLite database until `stop`."""

    def __init__(
        self,
        path: str,
        writer_turn: Callable[[], AbstractContextManager[None]],
        every_s: float = CHECKPOINT_EVERY_S,
        rewind_pages: int = REWIND_PAGES,
    ) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA busy_timeout=0")
        self._writer_turn = writer_turn
        self._every_s = every_s
        self._rewind_pages = rewind_pages
        self._stopped = threading.Event()
        self.rewinds = 0
        self._thread = threading.Thread(target=self._run, name="lucid-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (after its current checkpoint) and close its connection."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._connection.close()

    def checkpoint(self) -> None:
        """One passive checkpoint, then the rewind of a fully copied WAL of `rewind_pages`
        pages or more."""
        busy, frames, copied = self._pragma("PASSIVE")
        if busy or frames < self._rewind_pages or copied != frames:
            return
        with self._writer_turn():
            busy, _, _ = self._pragma("RESTART")
        self.rewinds += not busy

    def _pragma(self, mode: str) -> tuple[int, int, int]:
        try:
            row = self._connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.OperationalError:  # locked by a writer of another program: next turn
            return 1, -1, -1
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stopped.wait(self._every_s):
            try:
                self.checkpoint()
            except Exception:  # the thread outlives a failed try; the next one may pass
                _log.exception("A checkpoint of the SQLite WAL failed")
