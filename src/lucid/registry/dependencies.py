"""What every part of the model registry works with: its ports, its settings, its clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from lucid.contracts.events import NewEvent, RecordedEvent
from lucid.contracts.registry_events import model_subject
from lucid.contracts.value.gate import DEFAULT_SKEW_LIMIT
from lucid.ports.artifacts import ArtifactStore, ModelHub
from lucid.ports.event_log import EventLog
from lucid.ports.feature_catalog import FeatureCatalog
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork


class RegistryDependencies:
    """The ports of the registry's use cases. `events` is read only (the models' history);
    everything written goes through a unit of work of `uows`. `clock` is the one time
    source. `allow_pickle`: the project accepts pickle (joblib) artifacts at its own risk."""

    def __init__(
        self,
        uows: UnitsOfWork,
        events: EventLog,
        artifacts: ArtifactStore,
        hub: ModelHub,
        *,
        clock: Callable[[], datetime],
        approvers: Sequence[str] = (),
        features: FeatureCatalog | None = None,
        skew_limit: float = DEFAULT_SKEW_LIMIT,
        allow_pickle: bool = False,
    ) -> None:
        self._uows = uows
        self._events = events
        self._artifacts = artifacts
        self._hub = hub
        self._approvers = tuple(approvers)
        self._clock = clock
        self._features = features
        self._skew_limit = skew_limit
        self._allow_pickle = allow_pickle


def record(uow: UnitOfWork, event: Any, actor: str, rationale: str, now: datetime) -> RecordedEvent:
    """Record a registry event (it names its model) in `uow`, on the model's subject."""
    return uow.record(
        NewEvent.of(
            event,
            actor=actor,
            subject=model_subject(event.name),
            rationale=rationale,
            occurred_at=now,
        )
    )
