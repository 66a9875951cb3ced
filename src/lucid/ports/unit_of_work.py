"""The unit of work: the rows a use case writes and the events that record why, committed
together.

A use case says what happens (`uow.models.add(...)`, `uow.record(event)`); the unit of work says
how it commits. A write unit of work holds the event log's write lock from its first statement,
so a use case reads the state, decides, writes and records under one lock and one commit. A unit
of work opened while another is open in the same context joins it: a use case may call another
and both commit (or roll back) as one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from lucid.contracts.events import NewEvent, RecordedEvent

if TYPE_CHECKING:
    from lucid.ports.access import AccessRepository
    from lucid.ports.deployments import DeploymentRepository
    from lucid.ports.experiments import ExperimentRepository
    from lucid.ports.features import FeatureRepository
    from lucid.ports.incidents import IncidentRepository
    from lucid.ports.models import ModelRepository
    from lucid.ports.monitoring import MonitoringRepository
    from lucid.ports.shadow import ShadowRepository


class UnitOfWork(Protocol):
    """One transaction of the metadata database, with its repositories and its events."""

    @property
    def models(self) -> ModelRepository: ...

    @property
    def features(self) -> FeatureRepository: ...

    @property
    def experiments(self) -> ExperimentRepository: ...

    @property
    def shadow(self) -> ShadowRepository: ...

    @property
    def incidents(self) -> IncidentRepository: ...

    @property
    def deployments(self) -> DeploymentRepository: ...

    @property
    def monitoring(self) -> MonitoringRepository: ...

    @property
    def access(self) -> AccessRepository: ...

    @property
    def connection(self) -> Any:
        """The transaction itself, opaque: for a store outside the repositories (the
        prediction log) to write in the same unit of work."""
        ...

    def record(self, new: NewEvent) -> RecordedEvent:
        """Append `new` to the event log in this transaction and run its handlers here."""
        ...

    def record_many(self, news: Sequence[NewEvent]) -> list[RecordedEvent]:
        """`record` for several events, in the order given."""
        ...

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the outermost unit of work has committed (never on rollback)."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...


EventHandler = Callable[[UnitOfWork, RecordedEvent], None]
"""Runs inside the transaction that recorded the event; what it raises undoes the whole unit."""


class UnitsOfWork(Protocol):
    """Opens units of work: `uows()` to write, `uows.read()` to read a consistent state."""

    def __call__(self) -> UnitOfWork:
        """A write unit of work (the event log's lock, taken at its first statement)."""
        ...

    def read(self) -> UnitOfWork:
        """A read-only unit of work: no lock; `record` refuses."""
        ...

    def subscribe(self, event_type: str, handler: EventHandler) -> None:
        """Run `handler` in the transaction of every `event_type` event recorded from now on."""
        ...
