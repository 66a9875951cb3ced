"""Changing a monitoring threshold: the policy's rule decides, the event log remembers why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lucid.contracts.events import NewEvent, RecordedEvent, Subject
from lucid.contracts.identities import normalise_identity
from lucid.contracts.validity.policy import MonitoringPolicy, ThresholdApproval
from lucid.contracts.validity.thresholds import Threshold
from lucid.ports.unit_of_work import UnitsOfWork


def change_threshold(
    uows: UnitsOfWork,
    policy: MonitoringPolicy,
    new: Threshold,
    *,
    proposer: str,
    rationale: str,
    approvals: Sequence[ThresholdApproval],
    occurred_at: datetime | None = None,
) -> tuple[MonitoringPolicy, RecordedEvent]:
    """Apply an approved threshold change and record it as a `ThresholdChanged` event about
    the model, with its rationale; nothing is recorded when the change is refused."""
    proposer = normalise_identity(proposer, "proposer")
    changed, event = policy.change_threshold(
        new, proposer=proposer, rationale=rationale, approvals=approvals
    )
    with uows() as uow:
        recorded = uow.record(
            NewEvent.of(
                event,
                actor=proposer,
                subject=Subject("model", policy.model),
                rationale=rationale,
                occurred_at=occurred_at,
            )
        )
    return changed, recorded
