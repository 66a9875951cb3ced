"""The port of the stored incidents: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol


class IncidentRepository(Protocol):
    """Incidents from detection to lesson (the memory)."""
