"""The validity contract's events: policies set, runs, alerts and their deliveries, actions
taken, incidents and drills. Every one is about the subject `model:<name>`, like the
registry's, so a model's whole story stays one indexed read of the event log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lucid.contracts.events import DomainEvent, event_type


@event_type("MonitoringPolicySet")
@dataclass(frozen=True)
class MonitoringPolicySet(DomainEvent):
    """A model's monitoring policy was stored (first time, or replaced with approvals)."""

    model: str
    policy: dict[str, Any]
    previous: dict[str, Any] | None
    approvals: list[dict[str, str]]


@event_type("ReferenceProfileBuilt")
@dataclass(frozen=True)
class ReferenceProfileBuilt(DomainEvent):
    """The reference profile of a model version was built from logged predictions or a file."""

    model: str
    version: str
    source: str
    rows: int


@event_type("MonitoringRunRecorded")
@dataclass(frozen=True)
class MonitoringRunRecorded(DomainEvent):
    """A monitoring run graded every threshold of the policy over a window."""

    model: str
    version: str
    run_id: str
    window: str
    level: str
    actions: list[str]
    checks: int
    non_ok: list[str]


@event_type("AlertRaised")
@dataclass(frozen=True)
class AlertRaised(DomainEvent):
    """A run asked to alert a team; the alert carries the checks' runbooks."""

    model: str
    alert_id: str
    run_id: str
    target: str
    level: str
    summary: str
    runbooks: list[str]


@event_type("AlertDeliveryAttempted")
@dataclass(frozen=True)
class AlertDeliveryAttempted(DomainEvent):
    """One attempt to deliver an alert to a channel, failed or not."""

    model: str
    alert_id: str
    channel: str
    step: int
    attempt: int
    delivered: bool
    detail: str


@event_type("AlertAcknowledged")
@dataclass(frozen=True)
class AlertAcknowledged(DomainEvent):
    """Someone took the alert in hand; it no longer escalates."""

    model: str
    alert_id: str


@event_type("AlertEscalated")
@dataclass(frozen=True)
class AlertEscalated(DomainEvent):
    """An unacknowledged alert moved one step up: warning → critical → escalation target."""

    model: str
    alert_id: str
    from_step: str
    to_step: str
    unacknowledged_minutes: float


@event_type("MonitoringActionTaken")
@dataclass(frozen=True)
class MonitoringActionTaken(DomainEvent):
    """An action a run asked for (freeze, rollback, retrain, investigate) and what came of it:
    `outcome` is done, skipped or failed; `detail` says what happened or why not."""

    model: str
    run_id: str
    action: str
    outcome: str
    detail: str


@event_type("IncidentOpened")
@dataclass(frozen=True)
class IncidentOpened(DomainEvent):
    """A non-OK run opened an incident; `detected_at` is the run's time, `window_start` the
    start of the window where the problem was seen (detection delay = their difference)."""

    model: str
    incident_id: str
    run_id: str
    level: str
    detected_at: str
    window_start: str
    checks: list[str]


@event_type("IncidentUpdated")
@dataclass(frozen=True)
class IncidentUpdated(DomainEvent):
    """A later run on a model with an open incident: still failing, or recovered (level ok)."""

    model: str
    incident_id: str
    run_id: str
    level: str
    observed_at: str
    recovered: bool
    checks: list[str]


@event_type("DriftDrillPerformed")
@dataclass(frozen=True)
class DriftDrillPerformed(DomainEvent):
    """A drill injected a known shift into a copy of a window; nothing real was changed."""

    model: str
    window: str
    shifts: list[str]
    level: str
    actions: list[str]
    expected_level: str | None
    passed: bool | None


@event_type("MonitoringFollowUpResumed")
@dataclass(frozen=True)
class MonitoringFollowUpResumed(DomainEvent):
    """A stored run whose follow-up had been interrupted (the process died) was finished by a
    later call; `steps` are what was still owed and is now done."""

    model: str
    run_id: str
    window: str
    steps: list[str]


@event_type("DigestDeliveryAttempted")
@dataclass(frozen=True)
class DigestDeliveryAttempted(DomainEvent):
    """One attempt to deliver a stakeholder digest to a channel, failed or not."""

    model: str
    digest_id: str
    channel: str
    attempt: int
    delivered: bool
    detail: str


@event_type("DigestSent")
@dataclass(frozen=True)
class DigestSent(DomainEvent):
    """The stakeholders of a policy were sent the digest of one reporting period: its runs
    and their levels, the open incidents and the unacknowledged alerts."""

    model: str
    digest_id: str
    period: str
    stakeholders: list[str]
    runs: int
    worst_level: str | None
    open_incidents: int
    unacknowledged_alerts: int
    delivered: list[str]
    failed: list[str]
