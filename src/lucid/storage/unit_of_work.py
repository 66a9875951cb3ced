"""The unit of work on the metadata database (see `lucid.ports.unit_of_work`).

A write unit of work is one `locked_transaction` holding the event log's lock; its repositories
are built on that transaction's connection, and `record` appends events on it, so rows and the
events that explain them commit together or not at all. A unit of work opened while another of
the same database is open in this context (a use case calling another) joins the outer one; the
outermost commits, then runs the `after_commit` actions.
"""

from __future__ import annotations

import contextlib
import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection

from lucid.contracts.events import NewEvent, RecordedEvent
from lucid.ports.unit_of_work import EventHandler
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog

if TYPE_CHECKING:
    from lucid.ports.access import AccessRepository
    from lucid.ports.deployments import DeploymentRepository
    from lucid.ports.experiments import ExperimentRepository
    from lucid.ports.features import FeatureRepository
    from lucid.ports.incidents import IncidentRepository
    from lucid.ports.models import ModelRepository
    from lucid.ports.monitoring import MonitoringRepository
    from lucid.ports.shadow import ShadowRepository

_REPOSITORIES: dict[str, tuple[str, str]] = {
    "models": ("lucid.storage.models", "SqlModelRepository"),
    "features": ("lucid.storage.feature_registry", "SqlFeatureRepository"),
    "experiments": ("lucid.storage.experiments", "SqlExperimentRepository"),
    "shadow": ("lucid.storage.shadow", "SqlShadowRepository"),
    "incidents": ("lucid.storage.incidents", "SqlIncidentRepository"),
    "deployments": ("lucid.storage.deployments", "SqlDeploymentRepository"),
    "monitoring": ("lucid.storage.monitoring", "SqlMonitoringRepository"),
    "access": ("lucid.storage.access", "SqlAccessRepository"),
}
"""Each repository's adapter (module, class), built on the unit's connection when first used."""
_LOG_READERS = {"features", "shadow"}
"""The repositories that also read the prediction log's segments (built with its folder):
sealed served values, shadow pairs."""

_OPEN: ContextVar[dict[int, SqlUnitOfWork] | None] = ContextVar("lucid_open_units", default=None)


class SqlUnitOfWork:
    """One transaction of a metadata database, with its repositories and events."""

    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        handlers: dict[str, list[EventHandler]],
        *,
        write: bool,
        log_root: Path | None = None,
    ) -> None:
        self._db = db
        self._log_root = log_root
        self._events = events
        self._handlers = handlers
        self._write = write
        self._outer: SqlUnitOfWork | None = None
        self._stack: contextlib.ExitStack | None = None
        self._connection: Connection | None = None
        self._repositories: dict[str, object] = {}
        self._after_commit: list[Callable[[], None]] = []

    # -- the transaction ----------------------------------------------------------------------

    def __enter__(self) -> SqlUnitOfWork:
        opened = _OPEN.get() or {}
        outer = opened.get(id(self._db))
        if outer is not None and (outer._write or not self._write):
            self._outer = outer  # join: the outermost unit commits
            return self
        stack = contextlib.ExitStack()
        if self._write:
            self._connection = stack.enter_context(self._db.locked_transaction(EVENT_LOCK))
        else:
            self._connection = stack.enter_context(self._db.transaction())
        self._stack = stack
        token = _OPEN.set({**opened, id(self._db): self})
        stack.callback(_OPEN.reset, token)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._outer is not None:
            self._outer = None
            return
        stack, self._stack = self._stack, None
        assert stack is not None, "a unit of work is used inside its `with` block"
        try:
            stack.__exit__(kind, error, trace)  # commits, or rolls back on an error
        finally:
            self._connection = None
            self._repositories.clear()
        if kind is None:
            actions, self._after_commit = self._after_commit, []
            for action in actions:
                action()
        else:
            self._after_commit.clear()

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for the storage adapters built on it."""
        if self._outer is not None:
            return self._outer.connection
        if self._connection is None:
            raise RuntimeError("A unit of work is used only inside its `with` block.")
        return self._connection

    # -- events ---------------------------------------------------------------------------------

    def record(self, new: NewEvent) -> RecordedEvent:
        """Append `new` in this transaction, then run the handlers of its type."""
        return self.record_many([new])[0]

    def record_many(self, news: Sequence[NewEvent]) -> list[RecordedEvent]:
        """Append `news` in order in this transaction, then run each one's handlers."""
        if self._outer is not None:
            return self._outer.record_many(news)
        if not self._write:
            raise RuntimeError("A read-only unit of work cannot record events.")
        recorded = self._events.append_many(news, connection=self.connection)
        for event in recorded:
            for handler in self._handlers.get(event.type, ()):
                handler(self, event)
        return recorded

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the outermost unit of work has committed."""
        if self._outer is not None:
            self._outer.after_commit(action)
        else:
            self._after_commit.append(action)

    # -- repositories -----------------------------------------------------------------------------

    def _repository(self, name: str) -> Any:
        if self._outer is not None:
            return self._outer._repository(name)
        if name not in self._repositories:
            module, cls = _REPOSITORIES[name]
            built = getattr(importlib.import_module(module), cls)
            self._repositories[name] = (
                built(self.connection, self._log_root)
                if name in _LOG_READERS
                else built(self.connection)
            )
        return self._repositories[name]

    @property
    def models(self) -> ModelRepository:
        return cast("ModelRepository", self._repository("models"))

    @property
    def features(self) -> FeatureRepository:
        return cast("FeatureRepository", self._repository("features"))

    @property
    def experiments(self) -> ExperimentRepository:
        return cast("ExperimentRepository", self._repository("experiments"))

    @property
    def shadow(self) -> ShadowRepository:
        return cast("ShadowRepository", self._repository("shadow"))

    @property
    def incidents(self) -> IncidentRepository:
        return cast("IncidentRepository", self._repository("incidents"))

    @property
    def deployments(self) -> DeploymentRepository:
        return cast("DeploymentRepository", self._repository("deployments"))

    @property
    def monitoring(self) -> MonitoringRepository:
        return cast("MonitoringRepository", self._repository("monitoring"))

    @property
    def access(self) -> AccessRepository:
        return cast("AccessRepository", self._repository("access"))


class SqlUnitsOfWork:
    """Opens units of work on one metadata database; holds the in-transaction event handlers.
    `log_root` is the prediction log's folder, whose segments the served values' reads and
    shadow pairs read (rows only when None)."""

    def __init__(self, db: Database, events: SqlEventLog, log_root: Path | None = None) -> None:
        self.db = db
        self.events = events
        self.log_root = log_root
        self._handlers: dict[str, list[EventHandler]] = defaultdict(list)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.db, self.events, self._handlers, write=True, log_root=self.log_root
        )

    def read(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.db, self.events, self._handlers, write=False, log_root=self.log_root
        )

    def subscribe(self, event_type: str, handler: EventHandler) -> None:
        self._handlers[event_type].append(handler)
