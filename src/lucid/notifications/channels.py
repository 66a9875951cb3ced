"""Alert channels: what each kind sends, and one `Notifier` per kind that sends it once.

- webhook: POST the message as JSON, signed in the Standard Webhooks scheme when the channel
  has a signing secret (`lucid.notifications.signatures`).
- slack: POST `{"text": ...}` (Slack incoming-webhook compatible).
- email: one plain-text message over SMTP (`smtplib`): STARTTLS (required by default) or TLS
  from the first byte, the server's certificate checked, and a login only once TLS is up.
- pagerduty: POST an Events API v2 `trigger` (routing_key, dedup_key, payload summary /
  severity / source / custom_details, links to runbooks); alerts only.

A notifier makes one attempt and raises `NotDelivered` for a receiver's failure, so the
caller retries and records every attempt (`lucid.notifications.retries`).
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lucid.contracts.validity.diagnostics import what_moved
from lucid.notifications import client
from lucid.notifications.signatures import signed_headers
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
        lines += [f"- {what_moved(c)}" for c in self.checks]
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


def post_json(
    url: str, body: dict[str, Any], timeout: float, *, signed_with: SecretStr | None = None
) -> str:
    """POST `body` as JSON: `HTTP <status>` when the receiver took it (2xx). With a secret,
    the POST carries the Standard Webhooks headers; its id is the body's SHA-256, the same
    on every retry of one message."""
    content = json.dumps(body, sort_keys=True).encode()
    headers = {"Content-Type": "application/json"}
    if signed_with is not None:
        message_id = "msg_" + hashlib.sha256(content).hexdigest()[:32]
        headers |= signed_headers(
            signed_with.get_secret_value(), message_id, content, datetime.now(UTC)
        )
    try:
        response = client.post(url, content, headers, timeout)
    except client.TransportError as error:
        raise NotDelivered(f"{type(error).__name__}: {error}") from error
    if not response.is_success:
        raise NotDelivered(f"HTTP {response.status_code} {response.reason_phrase}")
    return f"HTTP {response.status_code}"


@dataclass(frozen=True, slots=True)
class WebhookNotifier:
    """POSTs the notification's JSON body, signed when the channel names a secret."""

    name: str
    url: str
    timeout_seconds: float
    signing_secret_env: str | None = None
    signing_secret: SecretStr | None = field(default=None, repr=False)

    def send(self, notification: Notification) -> str:
        if self.signing_secret_env and self.signing_secret is None:
            raise NotDelivered(
                f"signing_secret_env: the channel {self.name} signs what it sends, and the "
                f"environment variable {self.signing_secret_env} holding its secret is not "
                "set, so nothing was sent"
            )
        return post_json(
            self.url,
            notification.to_dict(),
            self.timeout_seconds,
            signed_with=self.signing_secret,
        )


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
    """Sends the notification's text as one e-mail over SMTP: `security` is `starttls` (the
    server must offer it), `ssl` (TLS from the first byte) or `none` (no TLS, no login). With
    a `user`, it logs in after TLS only."""

    name: str
    smtp_host: str
    smtp_port: int
    sender: str
    recipients: tuple[str, ...]
    timeout_seconds: float
    security: str = "starttls"
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    password_env: str = "LUCID_SMTP_PASSWORD"
    ca_file: Path | None = None

    def send(self, notification: Notification) -> str:
        mail = email_message(notification, self.sender, self.recipients)
        try:
            with self.connect() as smtp:
                refused = smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise NotDelivered(f"{type(error).__name__}: {error}") from error
        if refused:
            raise NotDelivered(f"SMTP refused {', '.join(sorted(refused))}")
        return f"sent to {', '.join(self.recipients)}"

    def connect(self) -> smtplib.SMTP:
        """A session ready to send: TLS as `security` says, logged in when there is a user;
        raises `NotDelivered` before any credential leaves when TLS is not to be had."""
        if self.user and self.password is None:
            raise NotDelivered(
                f"smtp_password: the channel {self.name} logs in as {self.user}, and the "
                f"environment variable {self.password_env} holding its password is not set"
            )
        context = ssl.create_default_context(cafile=self.ca_file)
        timeout = self.timeout_seconds
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.smtp_host, self.smtp_port, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=timeout)
        try:
            if self.security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise NotDelivered(
                        f"smtp_security: the SMTP server {self.smtp_host}:{self.smtp_port} does "
                        f"not offer STARTTLS, which the channel {self.name} requires, so "
                        "nothing was sent (no message, no password); use smtp_security: ssl "
                        "for a server with TLS from the first byte"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user and self.password is not None:
                smtp.login(self.user, self.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp


def notifier_for(channel: AlertChannel) -> Notifier:
    """The notifier of a configured channel (settings validated its fields per kind)."""
    timeout = channel.timeout_seconds
    if channel.kind == "email":
        assert channel.smtp_host is not None and channel.sender is not None
        return EmailNotifier(
            channel.name,
            channel.smtp_host,
            channel.smtp_port_or_default,
            channel.sender,
            channel.recipients,
            timeout,
            security=channel.smtp_security,
            user=channel.smtp_user,
            password=channel.smtp_password,
            password_env=channel.smtp_password_env,
            ca_file=channel.smtp_ca_file,
        )
    assert channel.url is not None
    if channel.kind == "pagerduty":
        assert channel.routing_key is not None
        return PagerDutyNotifier(channel.name, channel.url, channel.routing_key, timeout)
    if channel.kind == "slack":
        return SlackNotifier(channel.name, channel.url, timeout)
    return WebhookNotifier(
        channel.name,
        channel.url,
        timeout,
        signing_secret_env=channel.signing_secret_env,
        signing_secret=channel.signing_secret,
    )
