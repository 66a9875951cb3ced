"""Alerts: raised by a run for each team an action names, delivered to every matching
channel with retries, acknowledged by a person, escalated when nobody does.

Steps: 0 warning, 1 critical, 2 escalated. A warning alert starts at step 0, a critical one at
step 1. `escalate` moves every unacknowledged alert whose step is older than
`escalate_after_minutes` one step up: warning → critical (sent again to its channels),
critical → escalation (sent to the escalation channels: the configured ones, else every
pagerduty channel, else its own channels marked escalated).

Delivery: each channel gets up to `attempts` tries, waiting backoff × 2^(try - 1) seconds
between them; every try is a row in `alert_deliveries` and an `AlertDeliveryAttempted`
event. With no channel configured the alert is recorded as delivered to `event_log` only, so
an alert is never dropped without a trace.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lucid.contracts.events import NewEvent, format_time, parse_time
from lucid.contracts.monitoring_events import (
    AlertAcknowledged,
    AlertDeliveryAttempted,
    AlertEscalated,
    AlertRaised,
)
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.actions import ActionKind
from lucid.contracts.validity.evaluation import Check, PolicyEvaluation
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.records import AlertRecord
from lucid.errors import Conflict, InvalidInput
from lucid.notifications.channels import AlertMessage
from lucid.notifications.retries import Delivery, deliver_with_retries
from lucid.ports.unit_of_work import UnitsOfWork
from lucid.settings import AlertChannel, AlertSettings

ACTOR = "monitoring"
STEPS = ("warning", "critical", "escalated")


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    alert: AlertRecord
    deliveries: tuple[Delivery, ...]

    def to_dict(self) -> dict[str, object]:
        return {**self.alert.to_dict(), "deliveries": [d.to_dict() for d in self.deliveries]}


def alert_targets(check: Check) -> tuple[str, ...]:
    """The teams a check alerts: those its level's actions name and, for a critical check,
    those its warning actions name too — nobody should learn of a rollback from the registry."""
    actions = list(check.actions)
    if check.level is Level.CRITICAL:
        actions += check.threshold.warning_actions
    return tuple(
        dict.fromkeys(a.target for a in actions if a.kind is ActionKind.ALERT and a.target)
    )


def check_summary(check: Check) -> str:
    """`threshold[feature]@segment level`, as an alert lists its checks."""
    return (
        f"{check.threshold.key}"
        + (
            f"[{check.measurement.feature}]"
            if check.measurement.feature and not check.threshold.feature
            else ""
        )
        + (f"@{check.measurement.segment}" if check.measurement.segment else "")
        + f" {check.level.value}"
    )


class Alerting:
    """Raising, delivering, acknowledging and escalating alerts for one project."""

    def __init__(
        self,
        uows: UnitsOfWork,
        settings: AlertSettings,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.uows = uows
        self.settings = settings
        self.clock = clock
        self.sleep = sleep

    def raise_for_run(
        self, model: str, run_id: str, evaluation: PolicyEvaluation, escalation: str | None
    ) -> list[AlertOutcome]:
        """One alert per team the run's non-OK checks alert (see `alert_targets`), at the
        worst level of those checks, carrying their runbooks; each delivered at once."""
        outcomes: list[AlertOutcome] = []
        asked = [alert_targets(check) for check in evaluation.checks]
        order = sorted(range(len(asked)), key=lambda i: -evaluation.checks[i].level.severity)
        targets = list(dict.fromkeys(t for i in order for t in asked[i]))
        for target in targets:
            checks = [
                c for c, teams in zip(evaluation.checks, asked, strict=True) if target in teams
            ]
            draft = self._draft(model, run_id, target, checks, escalation)
            record = self._store(draft)
            message = AlertMessage(
                record.id,
                model,
                draft.level,
                target,
                draft.summary,
                [c.to_dict() for c in checks],
                draft.runbooks,
                run_id,
            )
            outcomes.append(AlertOutcome(record, self.deliver(record, message)))
        return outcomes

    def _draft(
        self,
        model: str,
        run_id: str,
        target: str,
        checks: Sequence[Check],
        escalation: str | None,
    ) -> AlertRecord:
        """The alert of `target`: the worst level of its checks, their runbooks, a summary."""
        level = Level.worst(check.level for check in checks)
        runbooks = list(dict.fromkeys(c.threshold.runbook for c in checks if c.threshold.runbook))
        summary = ", ".join(check_summary(c) for c in checks)
        if escalation:
            summary += f" (escalation: {escalation})"
        now = format_time(self.clock())
        return AlertRecord(
            id=str(uuid.uuid4()),
            model=model,
            run_id=run_id,
            target=target,
            level=level.value,
            step=1 if level is Level.CRITICAL else 0,
            summary=summary,
            runbooks=runbooks,
            raised_at=now,
            stepped_at=now,
            acknowledged_at=None,
            acknowledged_by=None,
        )

    def _store(self, alert: AlertRecord) -> AlertRecord:
        """Store the alert with its event; the alert already raised for the same run and team
        when there is one (a resumed run raises nothing twice)."""
        with self.uows() as uow:
            raised = uow.monitoring.alert_for(alert.run_id, alert.target)
            if raised is not None:
                return raised
            uow.monitoring.add_alert(alert)
            uow.record(
                NewEvent.of(
                    AlertRaised(
                        alert.model,
                        alert.id,
                        alert.run_id,
                        alert.target,
                        alert.level,
                        alert.summary,
                        alert.runbooks,
                    ),
                    actor=ACTOR,
                    subject=model_subject(alert.model),
                    rationale=f"monitoring run {alert.run_id} asked to alert {alert.target}: "
                    f"{alert.summary}",
                )
            )
        return alert

    def channels_for(self, record: AlertRecord) -> list[AlertChannel]:
        own = [
            channel
            for channel in self.settings.channels
            if not channel.targets or record.target in channel.targets
        ]
        if record.step < 2:
            return own
        if self.settings.escalation_channels:
            names = set(self.settings.escalation_channels)
            return [c for c in self.settings.channels if c.name in names]
        paging = [c for c in self.settings.channels if c.kind == "pagerduty"]
        return paging or own

    def deliver(self, record: AlertRecord, message: AlertMessage) -> tuple[Delivery, ...]:
        """Send `message` to every channel of `record`'s step, retrying; record every try.
        Attempts already recorded for this step count: a channel that took the alert, or
        used up its attempts, is not tried again (a resumed run sends nothing twice, except
        an attempt whose answer was lost with the process: receivers dedupe on the alert id)."""
        return deliver_with_retries(
            self.channels_for(record),
            message,
            self._attempts_made(record),
            self.settings,
            self.sleep,
            lambda channel, attempt, delivered, detail: self._attempt(
                record, channel, attempt, delivered, detail
            ),
            "no alert channel configured: the alert is recorded in the event log only",
        )

    def _attempts_made(self, record: AlertRecord) -> dict[str, tuple[int, bool]]:
        with self.uows.read() as uow:
            return uow.monitoring.attempts_made(record.id, record.step)

    def _attempt(
        self, record: AlertRecord, channel: str, attempt: int, delivered: bool, detail: str
    ) -> None:
        at = format_time(self.clock())
        with self.uows() as uow:
            uow.monitoring.add_attempt(
                {
                    "alert_id": record.id,
                    "channel": channel,
                    "step": record.step,
                    "attempt": attempt,
                    "attempted_at": at,
                    "delivered": delivered,
                    "detail": detail,
                }
            )
            uow.record(
                NewEvent.of(
                    AlertDeliveryAttempted(
                        record.model, record.id, channel, record.step, attempt, delivered, detail
                    ),
                    actor=ACTOR,
                    subject=model_subject(record.model),
                    rationale=(
                        f"alert {record.id} to {channel}, attempt {attempt}: "
                        + ("delivered" if delivered else f"failed ({detail})")
                    ),
                )
            )

    def acknowledge(self, alert_id: str, *, actor: str) -> AlertRecord:
        who = actor.strip()
        if not who:
            raise InvalidInput("actor", "must name who acknowledges the alert")
        with self.uows() as uow:
            record = uow.monitoring.get_alert(alert_id)
            alert_id = record.id
            if record.acknowledged_by is not None:
                raise Conflict(
                    f"Alert {alert_id} was already acknowledged by {record.acknowledged_by}."
                )
            uow.monitoring.acknowledge(alert_id, who, format_time(self.clock()))
            uow.record(
                NewEvent.of(
                    AlertAcknowledged(record.model, alert_id),
                    actor=who,
                    subject=model_subject(record.model),
                    rationale=f"{who} took alert {alert_id} in hand",
                )
            )
            return uow.monitoring.get_alert(alert_id)

    def escalate(self) -> list[AlertOutcome]:
        """Step up every unacknowledged alert whose step is older than the delay."""
        now = self.clock()
        delay = timedelta(minutes=self.settings.escalate_after_minutes)
        with self.uows.read() as uow:
            waiting = uow.monitoring.alerts(unacknowledged=True)
        outcomes: list[AlertOutcome] = []
        for record in waiting:
            waited = now - parse_time(record.stepped_at)
            if record.step >= 2 or waited < delay:
                continue
            stepped = self._step_up(record, waited, now)
            if stepped is None:
                continue
            message = AlertMessage(
                record.id,
                record.model,
                "critical",
                record.target,
                record.summary,
                [],
                record.runbooks,
                record.run_id,
                escalated=stepped.step == 2,
            )
            outcomes.append(AlertOutcome(stepped, self.deliver(stepped, message)))
        return outcomes

    def _step_up(self, record: AlertRecord, waited: timedelta, now: datetime) -> AlertRecord | None:
        """Move `record` one step up with its `AlertEscalated` event; None when another
        process moved or acknowledged it first."""
        to_step = record.step + 1
        minutes = waited.total_seconds() / 60
        with self.uows() as uow:
            if not uow.monitoring.step_up(record.id, record.step, "critical", format_time(now)):
                return None
            uow.record(
                NewEvent.of(
                    AlertEscalated(
                        record.model,
                        record.id,
                        STEPS[record.step],
                        STEPS[to_step],
                        round(minutes, 3),
                    ),
                    actor=ACTOR,
                    subject=model_subject(record.model),
                    rationale=(
                        f"alert {record.id} unacknowledged for {minutes:.0f} min (delay "
                        f"{self.settings.escalate_after_minutes:g} min): {STEPS[record.step]} → "
                        f"{STEPS[to_step]}"
                    ),
                )
            )
            return uow.monitoring.get_alert(record.id)
