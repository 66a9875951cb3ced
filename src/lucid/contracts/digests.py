"""Stakeholder digests as stored: one per (model, reporting period), its content fixed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DigestRecord:
    """A stored digest: its period key (`start/end`, canonical UTC) and its content;
    `sent_at` stays None until every channel took it or used up its attempts."""

    id: str
    model: str
    period: str
    created_at: str
    content: dict[str, Any]
    sent_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "period": self.period,
            "created_at": self.created_at,
            "sent_at": self.sent_at,
            "content": self.content,
        }
