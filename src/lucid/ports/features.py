"""The port of the stored features: what the use cases read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.governance import Approval, Governed, Status
from lucid.contracts.semantic.skew import LoggedValue, ServedValue, SkewSums
from lucid.contracts.semantic.sources import Source
from lucid.contracts.semantic.versions import FeatureRef


class FeatureRepository(Protocol):
    """Sources, feature definitions, their status and approvals, and the log of served values.

    Times given as `at` are aware datetimes (stored as canonical UTC text)."""

    def sources(self) -> dict[str, Source]:
        """Every registered source, by name."""
        ...

    def add_source(self, source: Source, *, actor: str, at: datetime) -> None: ...

    def governed(self, *, name: str | None = None, concept: str | None = None) -> list[Governed]:
        """Stored definitions with their status and approvals, by name then version."""
        ...

    def find(self, ref: FeatureRef) -> Governed | None:
        """The stored definition of `ref`, or None."""
        ...

    def add_definition(
        self,
        definition: FeatureDefinition,
        *,
        status: Status,
        origin: str,
        actor: str,
        at: datetime,
    ) -> None: ...

    def set_status(self, ref: FeatureRef, status: Status, *, at: datetime) -> None: ...

    def add_approval(
        self, ref: FeatureRef, approval: Approval, *, rationale: str, at: datetime
    ) -> None: ...

    def log_served(self, values: Sequence[ServedValue], at: datetime) -> None:
        """Log values served to a model at `at`."""
        ...

    def served(
        self,
        *,
        since: datetime | None = None,
        features: Sequence[str] | None = None,
        after: int = 0,
        until: int | None = None,
    ) -> list[LoggedValue]:
        """Logged served values (served at or after `since`, of `features`, logged after
        position `after` and at or before `until`), in logged order, whether still rows or
        sealed into segments."""
        ...

    def served_position(self) -> int:
        """The position of the last served value logged; 0 with none."""
        ...

    def kept_skew(self, tolerance: float) -> tuple[int, list[SkewSums]] | None:
        """Each feature's skew sums kept for `tolerance`, and the served position they cover."""
        ...

    def keep_skew(
        self, tolerance: float, position: int, sums: Sequence[SkewSums], at: datetime
    ) -> None:
        """Keep the skew sums of every value served up to `position` (measured at `at`),
        replacing those kept."""
        ...

    def last_served_at(self, features: Sequence[str]) -> datetime | None:
        """When any of `features` was last served, or None."""
        ...

    def served_count(self, features: Sequence[str]) -> int:
        """How many served values of `features` are logged."""
        ...

    def served_watermark(self) -> int:
        """The position of the last logged served value (0: none); it grows with every log."""
        ...
