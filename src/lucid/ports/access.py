"""The port of the stored access: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol


class AccessRepository(Protocol):
    """API tokens and event subscriptions (webhooks)."""
