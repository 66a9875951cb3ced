"""The port of the stored incidents: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol

from lucid.contracts.incidents.incident import Incident, IncidentStatus


class IncidentRepository(Protocol):
    """Incidents from detection to lesson (the memory)."""

    def get(self, incident_id: str) -> Incident | None:
        """The incident of this id, or of the one id starting with it (at least
        `MIN_PREFIX` characters; a prefix of several ids is refused naming them)."""
        ...

    def find(
        self, model: str | None = None, status: IncidentStatus | None = None
    ) -> list[Incident]:
        """Incidents, oldest first, of one model and/or in one status."""
        ...

    def not_closed(self, model: str) -> str | None:
        """The id of `model`'s incident not closed, None when every one is closed."""
        ...

    def others(self, model: str, incident_id: str) -> list[Incident]:
        """`model`'s incidents other than `incident_id`."""
        ...

    def add(self, incident: Incident) -> None: ...

    def save(self, incident: Incident) -> None:
        """Write the changed incident over the stored one of the same id."""
        ...
