"""Another process holding the writers' turn of an SQLite database (the `flock` of
`lucid.storage.writers_turn`), for tests of the writers waiting for it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = """
import fcntl, pathlib, sys, time
path = pathlib.Path(sys.argv[1])
path.parent.mkdir(exist_ok=True)
handle = path.open("a+b")
fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def writers_turn_held(database: Path, seconds: float = 60.0) -> Iterator[None]:
    """From the block's start, another process holds the writers' turn of the SQLite file
    `database` for `seconds`, or until the block ends."""
    lock = database.parent / f"{database.name}.locks" / "writers.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
