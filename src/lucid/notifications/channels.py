"""Alert channels: what each kind sends, and one `Notifier` per kind that sends it once.

- webhook: POST the message as JSON.
- slack: POST `{"text": ...}` (Slack incoming-webhook compatible).
- email: one plain-text message over SMTP (`smtplib`).
- pagerduty: POST an Events API v2 `trigger` (routing_key, dedup_key, payload summary /
  severity / source / custom_details, links to runbooks); alerts only.

A notifier makes one attempt and raises `NotDelivered` for a receiver's failure, so the
caller retries and records every attempt (`lucid.notifications.retries`).
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from lucid.notifications import client
from lucid.ports.notifier import NotDelivered, Notification, Notifier
from lucid.settings import AlertChannel


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What an alert says: the model, the level (warning, critical), the team alerted, a
    one-line summary, the non-OK checks and the runbooks they name."""

    alert_id: str
    model: str
    level: str
    target: str
    summary: str
    checks: list[dict[str, Any]]
    runbooks: list[str]
    run_id: str
    escalated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "model": self.model,
            "level": self.level,
            "target": self.target,
            "summary": self.summary,
            "checks": self.checks,
            "runbooks": self.runbooks,
            "run_id": self.run_id,
            "escalated": self.escalated,
        }

    @property
    def text(self) -> str:
        prefix = "ESCALATED " if self.escalated else ""
        lines = [f"[lucid] {prefix}{self.level.upper()} {self.model}: {self.summary}"]
        lines += [
            f"- {c['threshold']} {c.get('feature') or ''} {c.get('segment') or ''}: "
            f"{c['value']} ({c['level']})"
            for c in self.checks
        ]
        lines += [f"Runbook: {runbook}" for runbook in self.runbooks]
        return "\n".join(lines)


def slack_body(message: Notification) -> dict[str, Any]:
    return {"text": message.text}


def pagerduty_body(message: AlertMessage, routing_key: str) -> dict[str, Any]:
    severity = "critical" if message.level == "critical" or message.escalated else "warning"
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": message.alert_id,
        "payload": {
            "summary": message.text.splitlines()[0][:1024],
            "severity": severity,
            "source": f"lucid:{message.model}",
            "component": message.model,
            "group": message.target,
            "custom_details": {"checks": message.checks, "run_id": message.run_id},
        },
        "links": [
            {"href": runbook, "text": "runbook"}
            for runbook in message.runbooks
            if runbook.startswith(("http://", "https://"))
        ],
    }


def email_message(message: Notification, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.text.splitlines()[0]
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail.set_content(message.text)
    return mail


def post_json(url: str, body: dict[str, Any], timeout: float) -> str:
    """POST `body` as JSON: `HTTP <status>` when the receiver took it (2xx)."""
    headers = {"Content-Type": "application/json"}
    try:
        response = client.post(url, json.dumps(body).encode(), headers, timeout)
    except client.TransportError as error:
        raise NotDelivered(f"{type(error).__name__}: {error}") from error
    if not response.is_success:
        raise NotDelivered(f"HTTP {response.status_code} {response.reason_phrase}")
    return f"HTTP {response.status_code}"


@dataclass(frozen=True, slots=True)
class WebhookNotifier:
    """POSTs the notification's JSON body."""

    name: str
    url: str
    timeout_seconds: float

    def send(self, notification: Notification) -> str:
        return post_json(self.url, notification.to_dict(), self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class SlackNotifier:
    """POSTs the notification's text to a Slack incoming webhook."""

    name: str
    url: str
    timeout_seconds: float

    def send(self, notification: Notification) -> str:
        return post_json(self.url, slack_body(notification), self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class PagerDutyNotifier:
    """Triggers a PagerDuty incident (Events API v2) for an alert; it pages, so alerts only."""

    name: str
    url: str
    routing_key: str
    timeout_seconds: float

    def send(self, notification: Notification) -> str:
        if not isinstance(notification, AlertMessage):
            raise NotDelivered("a pagerduty channel takes alerts only")
        body = pagerduty_body(notification, self.routing_key)
        return post_json(self.url, body, self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class EmailNotifier:
    """Sends the notification's text as one e-mail over SMTP."""

    name: str
    smtp_host: str
    smtp_port: int
    sender: str
    recipients: tuple[str, ...]
    timeout_seconds: float

    def send(self, notification: Notification) -> str:
        mail = email_message(notification, self.sender, self.recipients)
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds) as smtp:
                refused = smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise NotDelivered(f"{type(error).__name__}: {error}") from error
        if refused:
            raise NotDelivered(f"SMTP refused {', '.join(sorted(refused))}")
        return f"sent to {', '.join(self.recipients)}"


def notifier_for(channel: AlertChannel) -> Notifier:
    """The notifier of a configured channel (settings validated its fields per kind)."""
    timeout = channel.timeout_seconds
    if channel.kind == "email":
        assert channel.smtp_host is not None and channel.sender is not None
        return EmailNotifier(
            channel.name,
            channel.smtp_host,
            channel.smtp_port,
            channel.sender,
            channel.recipients,
            timeout,
        )
    assert channel.url is not None
    if channel.kind == "pagerduty":
        assert channel.routing_key is not None
        return PagerDutyNotifier(channel.name, channel.url, channel.routing_key, timeout)
    if channel.kind == "slack":
        return SlackNotifier(channel.name, channel.url, timeout)
    return WebhookNotifier(channel.name, channel.url, timeout)
