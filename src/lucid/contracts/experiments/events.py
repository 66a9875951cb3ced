"""The events of A/B experiments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lucid.contracts.events import DomainEvent, event_type


@event_type("ExperimentCreated")
@dataclass(frozen=True)
class ExperimentCreated(DomainEvent):
    """An A/B experiment was designed: control, challenger, metric, split, minimum sample."""

    experiment_id: str
    design: dict[str, Any]
    minimum_sample: dict[str, int]


@event_type("ExposuresLogged")
@dataclass(frozen=True)
class ExposuresLogged(DomainEvent):
    """A batch of exposures was logged (counts per arm; the rows are in the experiment store)."""

    experiment_id: str
    control: int
    challenger: int
    already_exposed: int


@event_type("OutcomesLogged")
@dataclass(frozen=True)
class OutcomesLogged(DomainEvent):
    """A batch of per-entity outcomes was logged (counts per metric)."""

    experiment_id: str
    outcomes: dict[str, int]


@event_type("ExperimentConcluded")
@dataclass(frozen=True)
class ExperimentConcluded(DomainEvent):
    """An experiment was concluded; its evidence went to the challenger version."""

    experiment_id: str
    decision: str
    analysis: dict[str, Any]
    evidence: dict[str, Any]
