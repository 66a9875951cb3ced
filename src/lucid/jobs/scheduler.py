"""The scheduler: the project's periodic work (`lucid.jobs.ticks`), run by one process at a
time.

Leadership: a scheduler ticks only while it holds the session lock `scheduler` (a
PostgreSQL session advisory lock, or a `flock` beside the SQLite file). Every other one —
another `lucid serve --schedule` on another machine, a stray `lucid schedule` — waits on
standby and takes over when the leader dies, since the lock dies with its holder. Each
tick is recorded as the heartbeat `/readyz` and `/metrics` show.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from lucid.errors import LucidError
from lucid.jobs.ticks import TickReport

SCHEDULER = "lucid"
"""The name of the project's scheduler: its heartbeat row and its leadership lock."""


class Lease(Protocol):
    """A leadership lock being held."""

    def alive(self) -> bool:
        """Whether it still is (a PostgreSQL lock is lost with its connection)."""
        ...


Leadership = Callable[[], AbstractContextManager[Lease | None]]
"""Try to take the scheduler's lock without waiting: the lease, or None while another holds
it (`Database.session_lock(SCHEDULER, wait=False)`)."""

Heartbeat = Callable[[str, str, str, float, dict[str, Any]], None]
"""Record a tick: (scheduler name, holder, ticked at, seconds, summary)."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """Tick every `tick_seconds` while leading; stand by otherwise. `stop` ends the loop;
    `parent_pid` ends it when that process is gone (`lucid serve` starts it that way)."""

    def __init__(
        self,
        work: Callable[[], TickReport],
        leadership: Leadership,
        heartbeat: Heartbeat,
        tick_seconds: float,
        *,
        stop: threading.Event | None = None,
        parent_pid: int | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.work = work
        self.leadership = leadership
        self.heartbeat = heartbeat
        self.tick_seconds = tick_seconds
        self.stop = stop or threading.Event()
        self.parent_pid = parent_pid
        self.holder = holder_name()
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def _should_stop(self) -> bool:
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            self.stop.set()  # the server that started us is gone
        return self.stop.is_set()

    def serve_forever(self) -> None:
        while not self._should_stop():
            try:
                with self.leadership() as held:
                    if held is None:
                        self.stop.wait(self.tick_seconds)  # standby: someone else leads
                        continue
                    self.log(f"scheduler {self.holder} leads")
                    while not self._should_stop() and held.alive():
                        self.tick_once()
            except LucidError as error:  # e.g. the database is unreachable: retry later
                self.log(f"scheduler {self.holder}: {error.sentence}")
                self.stop.wait(self.tick_seconds)
            except Exception as error:  # a lost connection, a bug: stand back, try again
                self.log(f"scheduler {self.holder}: {type(error).__name__}: {error}")
                self.stop.wait(self.tick_seconds)

    def tick_once(self) -> TickReport:
        """One tick, its heartbeat recorded; then wait for the next one."""
        started = time.monotonic()
        report = self.work()
        self.heartbeat(SCHEDULER, self.holder, report.ticked_at, report.seconds, report.to_dict())
        for error in report.errors:
            self.log(f"scheduler tick: {error}")
        self.stop.wait(max(0.0, self.tick_seconds - (time.monotonic() - started)))
        return report
