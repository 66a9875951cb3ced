"""One tick of the periodic work: the validity contract's runs, alerts and digests, the
learning loop's due checkpoints, and the event log's signed checkpoint when one is due.

Each tick: finish runs whose process died (`resume`), run every model with a stored policy
over the last complete window of its frequency (`run`: a window already run is not run
again, so ticking often runs each policy once per period), escalate unacknowledged alerts,
send the stakeholder digests that are due, judge the due deployment checkpoints, publish
the event log's checkpoint when `log_checkpoints` says one is due (`lucid.jobs.anchor`), and
at the first tick of each UTC day seal the prediction log's rows of ended days into segments
(`Monitoring.seal_daily`). One failing part never stops the others; its sentence goes into
the tick's summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lucid.contracts.events import format_time
from lucid.contracts.log_checkpoints import SignedCheckpoint
from lucid.errors import LucidError

ACTOR = "scheduler"


class StoredRun(Protocol):
    @property
    def window(self) -> str: ...

    @property
    def level(self) -> str: ...


class RunDone(Protocol):
    @property
    def record(self) -> StoredRun: ...

    @property
    def created(self) -> bool: ...

    @property
    def resumed(self) -> bool: ...


class Sealed(Protocol):
    @property
    def rows(self) -> int: ...


class PeriodicMonitoring(Protocol):
    """What a tick asks of monitoring."""

    def models(self) -> list[str]: ...

    def resume(self) -> Sized: ...

    def run(self, model: str) -> RunDone: ...

    def escalate(self) -> Sized: ...

    def send_digests(self) -> Sized: ...

    def seal_daily(self) -> Sealed: ...


class Checkpoints(Protocol):
    """What a tick asks of the learning loop."""

    def run_checkpoints(self, *, actor: str) -> Sized: ...


class LogCheckpoints(Protocol):
    """What a tick asks of the event log's anchor."""

    def publish_if_due(self) -> SignedCheckpoint | None: ...


class Project(Protocol):
    """The parts of a project a tick works with (`lucid.bootstrap.Lucid` has them)."""

    @property
    def clock(self) -> Callable[[], datetime]: ...

    @property
    def monitoring(self) -> PeriodicMonitoring: ...

    @property
    def loop(self) -> Checkpoints: ...

    @property
    def anchor(self) -> LogCheckpoints: ...


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
    sealed: int = 0
    """Prediction rows of ended UTC days moved into columnar segments this tick."""
    log_checkpoint: int | None = None
    """The head position the event log's checkpoint signed this tick, if one was published."""
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
            "sealed": self.sealed,
            "log_checkpoint": self.log_checkpoint,
            "errors": self.errors,
        }

    def guarded(self, part: str, work: Callable[[], None]) -> None:
        """Do `work`; what it raises becomes a sentence of `errors`, never the tick's end."""
        try:
            work()
        except LucidError as error:
            self.errors.append(f"{part}: {error.sentence}")
        except Exception as error:  # a bug in one part must not stop the scheduler
            self.errors.append(f"{part}: {type(error).__name__}: {error}")


def tick(project: Project) -> TickReport:
    """One round of the periodic work (see the module docstring)."""
    started = time.monotonic()
    report = TickReport(format_time(project.clock()))
    monitoring = project.monitoring

    def resume() -> None:
        report.resumed = len(monitoring.resume())

    report.guarded("resume", resume)
    for model in _models(monitoring, report):

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

        report.guarded(f"run {model}", run)

    def escalate() -> None:
        report.escalated = len(monitoring.escalate())

    def digests() -> None:
        report.digests = len(monitoring.send_digests())

    def checkpoints() -> None:
        report.checkpoints = len(project.loop.run_checkpoints(actor=ACTOR))

    def log_checkpoint() -> None:
        published = project.anchor.publish_if_due()
        if published is not None:
            report.log_checkpoint = published.checkpoint.head_seq

    def seal() -> None:
        report.sealed = monitoring.seal_daily().rows

    report.guarded("escalate", escalate)
    report.guarded("digests", digests)
    report.guarded("checkpoints", checkpoints)
    report.guarded("log checkpoint", log_checkpoint)
    report.guarded("seal", seal)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _models(monitoring: PeriodicMonitoring, report: TickReport) -> list[str]:
    try:
        return monitoring.models()
    except LucidError as error:
        report.errors.append(f"models: {error.sentence}")
        return []
