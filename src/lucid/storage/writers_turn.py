"""The turn SQLite writers take, in this process and across processes.

A writer waits for this process's other writers (a re-entrant thread lock), then for other
processes' (an `flock` on a file beside the database, polled from 20 µs up to 200 µs
apart). SQLite's own busy handler sleeps up to 100 ms between tries, and serving workers
commit many times a second. A wait is bounded like SQLite's busy timeout.

`held` waits on the calling thread.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lucid.errors import StorageUnavailable

FIRST_PAUSE_S, LONGEST_PAUSE_S = 0.00002, 0.0002
"""The pauses between two tries at the writers' file, doubling from the first."""


class WritersTurn:
    """The writers' turn of one SQLite database; `folder` gives its lock files' folder (None
    for a database in memory, whose one process needs no file), `name` names it in errors."""

    def __init__(self, folder: Callable[[], Path | None], name: str, timeout_s: float) -> None:
        self._folder = folder
        self._name = name
        self._timeout_s = timeout_s
        self._lock = threading.RLock()
        self._depth = 0  # how deep the thread holding `_lock` is
        self._file: Any = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The turn, waited for on this thread."""
        with self._lock:
            if self._depth == 0:  # not inside a turn this thread holds
                pauses = self._pauses()
                while not self._try_file():
                    time.sleep(next(pauses))
            self._depth += 1
            try:
                yield
            finally:
                self._leave()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _try_file(self) -> bool:
        """Take the writers' file if no other process holds it."""
        if self._file is None:
            folder = self._folder()
            if folder is None:
                return True  # one process: the thread lock is enough
            self._file = (folder / "writers.lock").open("a+b")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _pauses(self) -> Iterator[float]:
        """The pauses between two tries, doubling; StorageUnavailable past the timeout."""
        deadline, pause = time.monotonic() + self._timeout_s, FIRST_PAUSE_S
        while time.monotonic() <= deadline:
            yield pause
            pause = min(pause * 2, LONGEST_PAUSE_S)
        raise StorageUnavailable(
            f"Another writer has held the SQLite database {self._name} for "
            f"{self._timeout_s:g} s; nothing was written."
        )

    def _leave(self) -> None:
        if self._depth == 1 and self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._depth -= 1
