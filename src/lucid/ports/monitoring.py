"""The port of the stored monitoring: what the use cases read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from lucid.contracts.events import NewEvent
from lucid.contracts.validity import Evaluation, MonitoringPolicy

if TYPE_CHECKING:
    from lucid.monitoring.profiles import ReferenceProfile
    from lucid.storage.event_log import SqlEventLog
    from lucid.storage.monitoring import RunRecord


class MonitoringRepository(Protocol):
    """Reference profiles, monitoring runs and their checks, alerts and the incidents runs open."""


class MonitoringStore(Protocol):
    """Reference profiles (one per model version) and monitoring runs with every check."""

    def save_profile(
        self, model: str, version: str, profile: ReferenceProfile, *, created_at: datetime
    ) -> bool: ...

    def load_profile(self, model: str, version: str) -> ReferenceProfile: ...

    def record_run(
        self,
        policy: MonitoringPolicy,
        version: str,
        window: str,
        evaluation: Evaluation,
        *,
        measured_at: datetime,
        events: SqlEventLog | None = None,
        announce: Callable[[str], NewEvent] | None = None,
    ) -> tuple[RunRecord, bool]: ...

    def find_run(self, model: str, window: str) -> RunRecord | None: ...
