"""The port of notifications: a message delivered to people or systems outside Lucid."""

from __future__ import annotations

from typing import Any, Protocol


class Notification(Protocol):
    """What is sent: a machine-readable body and a line a person reads."""

    def to_dict(self) -> dict[str, Any]: ...

    def text(self) -> str: ...


class Notifier(Protocol):
    """Delivers notifications to one destination (a webhook, Slack, PagerDuty, e-mail)."""

    def send(self, notification: Notification) -> None:
        """Deliver `notification`, retrying as the destination allows; raise if it never
        arrived."""
        ...
