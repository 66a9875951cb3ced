"""Changing a monitoring threshold: the policy's rule decides, the event log remembers why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lucid.contracts.events import NewEvent, RecordedEvent, Subject
from lucid.contracts.validity import Approval, MonitoringPolicy, Threshold
from lucid.ports import EventLog


def change_threshold(
    events: EventLog,
    policy: MonitoringPolicy,
    new: Threshold,
    *,
    proposer: str,
    rationale: str,
    approvals: Sequence[Approval],
    occurred_at: datetime | None = None,
) -> tuple[MonitoringPolicy, RecordedEvent]:
    """Apply an approved threshold change and record it as a `ThresholdChanged` event about
    the model, with its rationale; nothing is recorded when the change is refused."""
    changed, event = policy.change_threshold(
        new, proposer=proposer, rationale=rationale, approvals=approvals
    )
    recorded = events.append(
        NewEvent.of(
            event,
            actor=proposer,
            subject=Subject("model", policy.model),
            rationale=rationale,
            occurred_at=occurred_at,
        )
    )
    return changed, recorded
