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
from collections.abc import Callable
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
from lucid.contracts.validity import ActionKind, Check, Evaluation, Level
from lucid.errors import InvalidInput
from lucid.notifications.channels import AlertMessage
from lucid.notifications.retries import Delivery, deliver_with_retries
from lucid.settings import AlertChannel, AlertSettings
from lucid.storage.alerts import AlertRecord, SqlAlertStore

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


class Alerting:
    """Raising, delivering, acknowledging and escalating alerts for one project."""

    def __init__(
        self,
        store: SqlAlertStore,
        settings: AlertSettings,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.sleep = sleep

    def raise_for_run(
        self, model: str, run_id: str, evaluation: Evaluation, escalation: str | None
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
            level = Level.worst(check.level for check in checks)
            runbooks = list(
                dict.fromkeys(c.threshold.runbook for c in checks if c.threshold.runbook)
            )
            summary = ", ".join(
                f"{c.threshold.key}"
                + (
                    f"[{c.measurement.feature}]"
                    if c.measurement.feature and not c.threshold.feature
                    else ""
                )
                + (f"@{c.measurement.segment}" if c.measurement.segment else "")
                + f" {c.level.value}"
                for c in checks
            )
            if escalation:
                summary += f" (escalation: {escalation})"
            now = format_time(self.clock())
            record = AlertRecord(
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
            record = self.store.raise_alert(
                record,
                NewEvent.of(
                    AlertRaised(model, record.id, run_id, target, level.value, summary, runbooks),
                    actor=ACTOR,
                    subject=model_subject(model),
                    rationale=f"monitoring run {run_id} asked to alert {target}: {summary}",
                ),
            )
            message = AlertMessage(
                record.id,
                model,
                level.value,
                target,
                summary,
                [c.to_dict() for c in checks],
                runbooks,
                run_id,
            )
            outcomes.append(AlertOutcome(record, self.deliver(record, message)))
        return outcomes

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
            self.store.attempts_made(record.id, record.step),
            self.settings,
            self.sleep,
            lambda channel, attempt, delivered, detail: self._attempt(
                record, channel, attempt, delivered, detail
            ),
            "no alert channel configured: the alert is recorded in the event log only",
        )

    def _attempt(
        self, record: AlertRecord, channel: str, attempt: int, delivered: bool, detail: str
    ) -> None:
        at = format_time(self.clock())
        self.store.record_attempt(
            {
                "alert_id": record.id,
                "channel": channel,
                "step": record.step,
                "attempt": attempt,
                "attempted_at": at,
                "delivered": delivered,
                "detail": detail,
            },
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
            ),
        )

    def acknowledge(self, alert_id: str, *, actor: str) -> AlertRecord:
        who = actor.strip()
        if not who:
            raise InvalidInput("actor", "must name who acknowledges the alert")
        record = self.store.get(alert_id)
        self.store.acknowledge(
            alert_id,
            who,
            format_time(self.clock()),
            NewEvent.of(
                AlertAcknowledged(record.model, alert_id),
                actor=who,
                subject=model_subject(record.model),
                rationale=f"{who} took alert {alert_id} in hand",
            ),
        )
        return self.store.get(alert_id)

    def escalate(self) -> list[AlertOutcome]:
        """Step up every unacknowledged alert whose step is older than the delay."""
        now = self.clock()
        delay = timedelta(minutes=self.settings.escalate_after_minutes)
        outcomes: list[AlertOutcome] = []
        for record in self.store.alerts(unacknowledged=True):
            if record.step >= 2:
                continue
            waited = now - parse_time(record.stepped_at)
            if waited < delay:
                continue
            to_step = record.step + 1
            level = "critical"
            minutes = waited.total_seconds() / 60
            moved = self.store.step_up(
                record.id,
                record.step,
                level,
                format_time(now),
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
                ),
            )
            if not moved:
                continue
            stepped = self.store.get(record.id)
            message = AlertMessage(
                record.id,
                record.model,
                level,
                record.target,
                record.summary,
                [],
                record.runbooks,
                record.run_id,
                escalated=to_step == 2,
            )
            outcomes.append(AlertOutcome(stepped, self.deliver(stepped, message)))
        return outcomes
