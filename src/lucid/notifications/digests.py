"""Stakeholder digests: at the policy's reporting frequency, every stakeholder hears what
the period's runs found, which incidents are open and which alerts nobody acknowledged.

Rules:
- The period is the last complete one of the policy's reporting frequency (the same UTC
  boundaries as runs: hour, midnight, Monday). One digest per (model, period): a second call
  in the same period sends nothing, also when two processes race (a session lock per model
  and a unique (model, period) row).
- Content: every run whose window starts in the period, with each check and its level; the
  model's incidents not closed by the learning loop; its unacknowledged alerts.
- Channels: the alert channels, except pagerduty (it pages, it does not report), whose
  `targets` are empty or name a stakeholder (a stakeholder `data_team@company.com` also
  answers to `data_team`). E-mail goes to the stakeholders who are e-mail addresses, else
  to the channel's recipients. No channel: the digest is recorded in the event log only.
- Delivery retries like alerts; each attempt is a row and a `DigestDeliveryAttempted`
  event; `DigestSent` is recorded once every channel took it or used up its attempts. A
  digest stored by a process that died before that is delivered by the next call, channels
  that took it not again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lucid.contracts.digests import DigestRecord
from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.monitoring_events import DigestDeliveryAttempted, DigestSent
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity import Level, MonitoringPolicy
from lucid.notifications.retries import Delivery, deliver_with_retries
from lucid.ports.digests import AlertHistory, DigestStore, RunHistory
from lucid.settings import AlertChannel, AlertSettings

ACTOR = "monitoring"


class Period(Protocol):
    """A reporting period: [start, end) in canonical UTC text, and its key `start/end`."""

    @property
    def start(self) -> str: ...

    @property
    def end(self) -> str: ...

    @property
    def key(self) -> str: ...


@dataclass(frozen=True, slots=True)
class DigestMessage:
    """What a digest says; JSON for webhooks (`kind: digest`), text for Slack and e-mail."""

    digest_id: str
    content: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "digest", "digest_id": self.digest_id, **self.content}

    @property
    def text(self) -> str:
        c = self.content
        worst = c["worst_level"] or "no run"
        lines = [
            f"[lucid] {c['frequency']} digest {c['model']} {c['period']}: {worst}, "
            f"{len(c['open_incidents'])} open incidents, "
            f"{len(c['unacknowledged_alerts'])} unacknowledged alerts"
        ]
        if not c["runs"]:
            lines.append("No monitoring run over this period.")
        for run in c["runs"]:
            lines.append(f"Run {run['id']} over {run['window']} (version {run['version']}):")
            lines += [
                f"- {check['threshold']} {check.get('feature') or ''} "
                f"{check.get('segment') or ''}: {check['value']} ({check['level']})"
                for check in run["checks"]
            ]
        lines += [
            f"Incident {i['id']}: {i['status']} ({i['level']}) since {i['opened_at']}"
            for i in c["open_incidents"]
        ]
        lines += [
            f"Alert {a['id']} to {a['target']}: {a['level']} since {a['raised_at']}"
            for a in c["unacknowledged_alerts"]
        ]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class DigestReport:
    """A digest sent (or finished) by this call, and how each channel took it."""

    digest: DigestRecord
    deliveries: tuple[Delivery, ...]
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.digest.to_dict(),
            "resumed": self.resumed,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


def answers_to(stakeholders: tuple[str, ...]) -> set[str]:
    """The names channel `targets` may use for the stakeholders: each one, and the part
    before '@' of an e-mail address."""
    return set(stakeholders) | {s.split("@", 1)[0] for s in stakeholders if "@" in s}


def digest_channels(
    channels: tuple[AlertChannel, ...], stakeholders: tuple[str, ...]
) -> list[AlertChannel]:
    names = answers_to(stakeholders)
    addresses = tuple(s for s in stakeholders if "@" in s)
    chosen: list[AlertChannel] = []
    for channel in channels:
        if channel.kind == "pagerduty":
            continue
        if channel.targets and not names & set(channel.targets):
            continue
        if channel.kind == "email" and addresses:
            channel = channel.model_copy(update={"recipients": addresses})
        chosen.append(channel)
    return chosen


class Digests:
    """Building, storing and delivering stakeholder digests for one project."""

    def __init__(
        self,
        lock: Callable[[str], AbstractContextManager[object]],
        store: DigestStore,
        runs: RunHistory,
        alerts: AlertHistory,
        settings: AlertSettings,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.lock = lock
        self.store = store
        self.runs = runs
        self.alerts = alerts
        self.settings = settings
        self.clock = clock
        self.sleep = sleep

    def send(self, policy: MonitoringPolicy, period: Period, now: datetime) -> list[DigestReport]:
        """Finish the model's digests left pending, then send the digest of `period` (the
        last complete one of the policy's frequency) unless it was sent; the digests
        delivered by this call."""
        model = policy.model
        reports: list[DigestReport] = []
        with self.lock(f"digest:{model}"):
            for pending in self.store.digests(model, pending=True):
                reports.append(self._deliver(pending, resumed=True))
            if self.store.find(model, period.key) is not None:
                return reports
            content = self.content(policy, period.start, period.end)
            digest = self.store.create(
                DigestRecord(str(uuid.uuid4()), model, period.key, format_time(now), content, None)
            )
            if digest.sent_at is None:
                reports.append(self._deliver(digest, resumed=False))
        return reports

    def content(self, policy: MonitoringPolicy, start: str, end: str) -> dict[str, Any]:
        model = policy.model
        runs = self.runs.runs_starting_in(model, start, end)
        worst = Level.worst(Level(run.level) for run in runs).value if runs else None
        return {
            "model": model,
            "period": f"{start}/{end}",
            "frequency": policy.reporting.frequency.value,
            "stakeholders": list(policy.reporting.stakeholders),
            "worst_level": worst,
            "runs": [
                {
                    "id": run.id,
                    "window": run.window,
                    "version": run.version,
                    "level": run.level,
                    "actions": run.actions,
                    "checks": [
                        {
                            key: check.get(key)
                            for key in ("threshold", "feature", "segment", "value", "level")
                        }
                        for check in run.checks
                    ],
                }
                for run in runs
            ],
            "open_incidents": [
                i.to_dict() for i in self.alerts.incidents(model) if i.status != "closed"
            ],
            "unacknowledged_alerts": [
                {k: a.to_dict()[k] for k in ("id", "target", "level", "step", "raised_at")}
                | {"summary": a.summary}
                for a in self.alerts.alerts(model, unacknowledged=True)
            ],
        }

    def _deliver(self, digest: DigestRecord, *, resumed: bool) -> DigestReport:
        stakeholders = tuple(digest.content["stakeholders"])
        deliveries = deliver_with_retries(
            digest_channels(self.settings.channels, stakeholders),
            DigestMessage(digest.id, digest.content),
            self.store.attempts_made(digest.id),
            self.settings,
            self.sleep,
            lambda channel, attempt, delivered, detail: self._attempt(
                digest, channel, attempt, delivered, detail
            ),
            "no digest channel configured: the digest is recorded in the event log only",
        )
        self.store.mark_sent(
            digest.id, format_time(self.clock()), sent_event(digest, stakeholders, deliveries)
        )
        sent = self.store.find(digest.model, digest.period)
        assert sent is not None
        return DigestReport(sent, deliveries, resumed)

    def _attempt(
        self, digest: DigestRecord, channel: str, attempt: int, delivered: bool, detail: str
    ) -> None:
        self.store.record_attempt(
            {
                "digest_id": digest.id,
                "channel": channel,
                "attempt": attempt,
                "attempted_at": format_time(self.clock()),
                "delivered": delivered,
                "detail": detail,
            },
            NewEvent.of(
                DigestDeliveryAttempted(
                    digest.model, digest.id, channel, attempt, delivered, detail
                ),
                actor=ACTOR,
                subject=model_subject(digest.model),
                rationale=f"digest {digest.id} of {digest.period} to {channel}, attempt "
                f"{attempt}: " + ("delivered" if delivered else f"failed ({detail})"),
            ),
        )


def sent_event(
    digest: DigestRecord, stakeholders: tuple[str, ...], deliveries: tuple[Delivery, ...]
) -> NewEvent:
    """`DigestSent`: what the digest reported, and which channels took it."""
    content = digest.content
    delivered = [d.channel for d in deliveries if d.delivered]
    failed = [d.channel for d in deliveries if not d.delivered]
    return NewEvent.of(
        DigestSent(
            digest.model,
            digest.id,
            digest.period,
            list(stakeholders),
            len(content["runs"]),
            content["worst_level"],
            len(content["open_incidents"]),
            len(content["unacknowledged_alerts"]),
            delivered,
            failed,
        ),
        actor=ACTOR,
        subject=model_subject(digest.model),
        rationale=f"{content['frequency']} digest of {digest.period} for "
        f"{', '.join(stakeholders)}: {len(content['runs'])} runs, worst "
        f"{content['worst_level'] or 'none'}"
        + (f"; not delivered to {', '.join(failed)}" if failed else ""),
    )
