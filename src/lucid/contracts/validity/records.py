"""What monitoring stores, as values: runs with every check, alerts, and incidents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lucid.contracts.validity.diagnostics import FAILING, what_moved


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored monitoring run: its window, worst level, actions asked and every check
    (`to_dict` adds to each warning or critical check its `what_moved` line)."""

    id: str
    model: str
    version: str
    window: str
    measured_at: str
    level: str
    actions: list[str]
    checks: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "window": self.window,
            "measured_at": self.measured_at,
            "level": self.level,
            "actions": self.actions,
            "checks": [
                {**check, "what_moved": what_moved(check) if check["level"] in FAILING else None}
                for check in self.checks
            ],
        }


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert: `step` 0 warning, 1 critical, 2 escalated; times canonical UTC text."""

    id: str
    model: str
    run_id: str
    target: str
    level: str
    step: int
    summary: str
    runbooks: list[str]
    raised_at: str
    stepped_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "run_id": self.run_id,
            "target": self.target,
            "level": self.level,
            "step": self.step,
            "summary": self.summary,
            "runbooks": self.runbooks,
            "raised_at": self.raised_at,
            "stepped_at": self.stepped_at,
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """Monitoring's view of a model's incident: its level, the window that opened it, the
    last run about it and when it recovered (canonical UTC text); the lifecycle `status` is
    the learning loop's. `summary` is what the opening run found: each failing check's
    `what_moved` line (the findings people diagnose from; the diagnosis stays theirs)."""

    id: str
    model: str
    status: str
    level: str
    opened_at: str
    window_start: str
    last_run_id: str | None
    recovered_at: str | None
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "status": self.status,
            "level": self.level,
            "opened_at": self.opened_at,
            "window_start": self.window_start,
            "last_run_id": self.last_run_id,
            "recovered_at": self.recovered_at,
            "summary": self.summary,
        }
