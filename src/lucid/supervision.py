"""A worker of `lucid serve` ends with its supervisor, even one killed by SIGKILL (the
scheduler `lucid serve --schedule` starts uses the parent-death signal alone).

`lucid serve --workers N` runs a supervisor process that binds the port and starts the
workers; each worker holds a copy of the listening socket. A worker outliving its supervisor
would keep serving and keep the port, so every worker guards itself twice from its start:

- On Linux, `prctl(PR_SET_PDEATHSIG, SIGTERM)`: the kernel sends SIGTERM when the thread that
  started the worker ends. uvicorn starts workers from the supervisor's main thread, whose end
  is the supervisor's end.
- Everywhere, a daemon thread polling `os.getppid()`: a worker whose parent changed (it was
  adopted by init or a subreaper) sends itself SIGTERM.

SIGTERM is uvicorn's graceful shutdown: stop listening, finish the requests in flight, run the
lifespan's shutdown (which closes the project). A worker still alive `grace` seconds later
ends at once. A worker that finds its supervisor already gone when it starts (the race before
the guards were set) exits before serving anything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
"""`prctl` option: the signal the kernel sends this process when its parent thread dies."""

ORPHANED_EXIT_CODE = 3
"""The exit status of a worker that found its supervisor gone before it served anything."""


def exit_with_supervisor(supervisor: int, *, interval: float = 0.5, grace: float = 10.0) -> None:
    """Make this worker end when process `supervisor` (its parent) ends: at once if it is
    already gone, else by SIGTERM within `interval` seconds of its end, and for good `grace`
    seconds after that."""
    if supervisor == os.getpid():
        return  # a single process serving: it is its own supervisor
    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != supervisor:
        os._exit(ORPHANED_EXIT_CODE)  # gone before the guard was set: nothing started yet
    threading.Thread(
        target=_watch, args=(supervisor, interval, grace), name="supervisor-watch", daemon=True
    ).start()


def set_parent_death_signal(signum: int) -> bool:
    """Ask the kernel for `signum` when the parent thread dies; False where there is no
    `prctl` (not Linux), leaving the watching thread alone on guard."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return bool(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0)


def _watch(supervisor: int, interval: float, grace: float) -> None:
    while os.getppid() == supervisor:
        time.sleep(interval)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace)
    os._exit(1)  # the graceful shutdown did not end in time
