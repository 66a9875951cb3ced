"""Alert channels: what each one sends, and sending it once.

One function per channel kind turns an `AlertMessage` into its wire form; `send` makes one
attempt and returns (delivered, detail) — it never raises for a receiver's failure, so the
caller can retry and record every attempt (see `lucid.monitoring.alerts`).

- webhook: POST the alert as JSON.
- slack: POST `{"text": ...}` (Slack incoming-webhook compatible).
- email: one message over SMTP (`smtplib`), plain text.
- pagerduty: POST an Events API v2 `trigger` (routing_key, dedup_key, payload summary /
  severity / source / custom_details, links to runbooks).
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from lucid.settings import AlertChannel


class Message(Protocol):
    """What a channel sends: JSON for webhooks, text for Slack and e-mail (first line: the
    subject). Alerts and stakeholder digests are messages; only alerts page (PagerDuty)."""

    def to_dict(self) -> dict[str, Any]: ...

    @property
    def text(self) -> str: ...


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


def webhook_body(message: Message) -> dict[str, Any]:
    return message.to_dict()


def slack_body(message: Message) -> dict[str, Any]:
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


def email_message(message: Message, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.text.splitlines()[0]
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail.set_content(message.text)
    return mail


def send(channel: AlertChannel, message: Message) -> tuple[bool, str]:
    """One delivery attempt: (True, what the receiver said) or (False, why it failed)."""
    if channel.kind == "pagerduty" and not isinstance(message, AlertMessage):
        return False, "a pagerduty channel takes alerts only"
    try:
        if channel.kind == "email":
            assert channel.smtp_host is not None and channel.sender is not None
            mail = email_message(message, channel.sender, channel.recipients)
            with smtplib.SMTP(
                channel.smtp_host, channel.smtp_port, timeout=channel.timeout_seconds
            ) as smtp:
                refused = smtp.send_message(mail)
            if refused:
                return False, f"SMTP refused {', '.join(sorted(refused))}"
            return True, f"sent to {', '.join(channel.recipients)}"
        if channel.kind == "pagerduty":
            assert channel.routing_key is not None and isinstance(message, AlertMessage)
            body = pagerduty_body(message, channel.routing_key)
        elif channel.kind == "slack":
            body = slack_body(message)
        else:
            body = webhook_body(message)
        assert channel.url is not None
        return _post(channel.url, body, channel.timeout_seconds)
    except (OSError, smtplib.SMTPException) as error:
        return False, f"{type(error).__name__}: {error}"


def _post(url: str, body: dict[str, Any], timeout: float) -> tuple[bool, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return True, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        detail = f"HTTP {error.code} {error.reason}"
        error.close()
        return False, detail
