"""The port of notifications: a message delivered to people or systems outside Lucid."""

from __future__ import annotations

from typing import Any, Protocol


class Notification(Protocol):
    """What is sent: a machine-readable body and text a person reads (first line: the
    subject)."""

    def to_dict(self) -> dict[str, Any]: ...

    @property
    def text(self) -> str: ...


class NotDelivered(Exception):
    """One delivery attempt failed; the message says why (an HTTP status, a refused address,
    a transport error)."""


class Notifier(Protocol):
    """Delivers notifications to one destination (a webhook, Slack, PagerDuty, e-mail)."""

    @property
    def name(self) -> str:
        """The destination's name, as attempts record it."""
        ...

    def send(self, notification: Notification) -> str:
        """One delivery attempt: what the receiver answered (e.g. `HTTP 202`); raises
        `NotDelivered` when it did not take the notification. Retrying is the caller's."""
        ...
