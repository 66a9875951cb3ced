"""Another process holding the SQLite writers' turn of a database (`Database._writer`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

_HOLD = """
import fcntl, pathlib, sys, time
path = pathlib.Path(sys.argv[1])
path.parent.mkdir(exist_ok=True)
handle = path.open("a+b")
fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def writers_lock(database_url: str) -> Path:
    """The file the writers of an SQLite database take turns on."""
    return Path(f"{make_url(database_url).database}.locks") / "writers.lock"


@contextmanager
def turn_held_elsewhere(database_url: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the writers' turn of the database until the block ends or the
    process is `release`d."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(writers_lock(database_url))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        release(holder)


def release(holder: subprocess.Popen[str]) -> None:
    """End the holding process: its turn ends with it."""
    if holder.poll() is None:
        holder.kill()
    holder.wait()
    if holder.stdout is not None:
        holder.stdout.close()
