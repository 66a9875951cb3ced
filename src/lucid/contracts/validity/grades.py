"""What a check can conclude and what it watches: levels ordered by severity, drift types."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class DriftType(StrEnum):
    """What a threshold watches: inputs (data), input→output relation (concept), model
    quality (performance), or the business result the model must deliver (business)."""

    DATA = "data"
    CONCEPT = "concept"
    PERFORMANCE = "performance"
    BUSINESS = "business"


class Level(StrEnum):
    """The grade of a check. Ordered by `severity`: the worst level of a run decides.

    `insufficient_data` ranks above `ok`: a check that could not be judged is not a pass.
    """

    OK = "ok"
    INSUFFICIENT_DATA = "insufficient_data"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    # Compare by severity, not as text ("insufficient_data" < "ok" alphabetically).
    def __lt__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity < other.severity

    def __le__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity <= other.severity

    def __gt__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity > other.severity

    def __ge__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity >= other.severity

    @staticmethod
    def worst(levels: Iterable[Level]) -> Level:
        """The most severe of `levels`; `ok` when there are none."""
        return max(levels, key=lambda level: level.severity, default=Level.OK)


_SEVERITY = {
    Level.OK: 0,
    Level.INSUFFICIENT_DATA: 1,
    Level.WARNING: 2,
    Level.CRITICAL: 3,
}
