"""The ports of stakeholder digests: where they are stored, and what they report on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from lucid.contracts.digests import DigestRecord
from lucid.contracts.events import NewEvent


class DigestStore(Protocol):
    """Digests and their delivery attempts; each attempt and the sending with its event."""

    def find(self, model: str, period: str) -> DigestRecord | None: ...

    def digests(self, model: str | None = None, *, pending: bool = False) -> list[DigestRecord]:
        """Oldest first; `pending`: those not marked sent."""
        ...

    def create(self, digest: DigestRecord) -> DigestRecord:
        """Store a new digest; the one already stored for its period when there is one."""
        ...

    def attempts_made(self, digest_id: str) -> dict[str, tuple[int, bool]]:
        """Channel → (attempts recorded, delivered) for the digest."""
        ...

    def deliveries(self, digest_id: str) -> list[dict[str, Any]]:
        """Every delivery attempt of the digest, in the order recorded."""
        ...

    def record_attempt(self, values: dict[str, Any], event: NewEvent) -> None: ...

    def mark_sent(self, digest_id: str, at: str, event: NewEvent) -> bool:
        """Mark the digest sent with its event; False (nothing written) when it already was."""
        ...


class ReportedRun(Protocol):
    """A stored monitoring run, as a digest reports it."""

    @property
    def id(self) -> str: ...

    @property
    def window(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def level(self) -> str: ...

    @property
    def actions(self) -> list[str]: ...

    @property
    def checks(self) -> list[dict[str, Any]]: ...


class RunHistory(Protocol):
    def runs_starting_in(self, model: str, start: str, end: str) -> Sequence[ReportedRun]:
        """The model's runs whose window starts in [start, end), oldest first."""
        ...


class ReportedIncident(Protocol):
    @property
    def status(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class ReportedAlert(Protocol):
    @property
    def summary(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class AlertHistory(Protocol):
    def incidents(self, model: str | None = None) -> Sequence[ReportedIncident]: ...

    def alerts(
        self, model: str | None = None, *, unacknowledged: bool = False
    ) -> Sequence[ReportedAlert]: ...
