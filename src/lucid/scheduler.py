"""The scheduler: the validity contract's periodic work, run by one process at a time.

Each tick: finish runs whose process died (`Monitoring.resume`), run every model with a
stored policy over the last complete window of its frequency (`Monitoring.run`: a window
already run is not run again, so ticking often runs each policy once per period), escalate
unacknowledged alerts, send the stakeholder digests that are due, and judge the due
deployment checkpoints (`LearningLoop.run_checkpoints`). One failing part never stops the
others; its sentence goes into the tick's summary.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lucid.contracts.events import format_time
from lucid.errors import LucidError
from lucid.storage.scheduler import record_tick

if TYPE_CHECKING:
    from lucid.bootstrap import Lucid

SCHEDULER = "lucid"
"""The name of the project's scheduler: its heartbeat row and its leadership lock."""
ACTOR = "scheduler"


@dataclass
class TickReport:
    """What one tick did; `errors` holds one sentence per part that failed."""

    ticked_at: str
    seconds: float = 0.0
    runs: list[dict[str, Any]] = field(default_factory=list)
    resumed: int = 0
    escalated: int = 0
    digests: int = 0
    checkpoints: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticked_at": self.ticked_at,
            "seconds": self.seconds,
            "runs": self.runs,
            "resumed": self.resumed,
            "escalated": self.escalated,
            "digests": self.digests,
            "checkpoints": self.checkpoints,
            "errors": self.errors,
        }


def tick(lucid: Lucid) -> TickReport:
    """One round of the periodic work (see the module docstring)."""
    started = time.monotonic()
    report = TickReport(format_time(lucid.clock()))
    monitoring = lucid.monitoring

    def guarded(part: str, work: Callable[[], None]) -> None:
        try:
            work()
        except LucidError as error:
            report.errors.append(f"{part}: {error.sentence}")
        except Exception as error:  # a bug in one part must not stop the scheduler
            report.errors.append(f"{part}: {type(error).__name__}: {error}")

    def resume() -> None:
        report.resumed = len(monitoring.resume())

    guarded("resume", resume)
    for model in _models(lucid, report):

        def run(model: str = model) -> None:
            done = monitoring.run(model)
            if done.created or done.resumed:
                report.runs.append(
                    {
                        "model": model,
                        "window": done.record.window,
                        "level": done.record.level,
                        "resumed": done.resumed,
                    }
                )

        guarded(f"run {model}", run)

    def escalate() -> None:
        report.escalated = len(monitoring.escalate())

    def digests() -> None:
        report.digests = len(monitoring.send_digests())

    def checkpoints() -> None:
        report.checkpoints = len(lucid.loop.run_checkpoints(actor=ACTOR))

    guarded("escalate", escalate)
    guarded("digests", digests)
    guarded("checkpoints", checkpoints)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _models(lucid: Lucid, report: TickReport) -> list[str]:
    try:
        return lucid.monitoring.models()
    except LucidError as error:
        report.errors.append(f"models: {error.sentence}")
        return []


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    """Tick every `tick_seconds` while leading; stand by otherwise. `stop` ends the loop;
    `parent_pid` ends it when that process is gone (`lucid serve` starts it that way)."""

    def __init__(
        self,
        lucid: Lucid,
        tick_seconds: float,
        *,
        stop: threading.Event | None = None,
        parent_pid: int | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.lucid = lucid
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
                with self.lucid.db.session_lock(SCHEDULER, wait=False) as held:
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
        report = tick(self.lucid)
        record_tick(
            self.lucid.db,
            SCHEDULER,
            self.holder,
            report.ticked_at,
            report.seconds,
            report.to_dict(),
        )
        for error in report.errors:
            self.log(f"scheduler tick: {error}")
        self.stop.wait(max(0.0, self.tick_seconds - (time.monotonic() - started)))
        return report
