"""The model registry's events: every registry operation is one of these, with its rationale.

Every event is about the subject `model:<name>` (the version is in the payload), so a model's
whole story is one indexed read of the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lucid.contracts.events import DomainEvent, Subject, event_type


def model_subject(name: str) -> Subject:
    """The subject of every event about the model `name`."""
    return Subject("model", name)


@event_type("ModelRegistered")
@dataclass(frozen=True)
class ModelRegistered(DomainEvent):
    """A new version of a model was registered as a candidate, with its impact contract.
    `inputs` are the model's input names in the order it takes them (None: the model stated
    no signature, and takes the pins in their order, then the request-time inputs);
    `request_inputs` the values each request gives (`RequestInput.to_dict`), None for none."""

    name: str
    version: int
    artifact: dict[str, Any]
    features: list[str]
    training_data: str
    offline_metrics: dict[str, float]
    impact: dict[str, Any]
    inputs: list[str] | None = None
    request_inputs: list[dict[str, Any]] | None = None


@event_type("EvidenceAttached")
@dataclass(frozen=True)
class EvidenceAttached(DomainEvent):
    """An evidence record was attached to a version for the promotion gate; the record
    (`Evidence.to_dict`) carries its `origin` (lucid or external) and `digest`."""

    name: str
    version: int
    evidence: dict[str, Any]


@event_type("ModelPromoted")
@dataclass(frozen=True)
class ModelPromoted(DomainEvent):
    """A version moved up a stage; `basis` says why the gate let it (stage, evidence, override).

    `replaced_version` is the production version it archived, if any; `evidence_digests` the
    digests of the evidence records a promotion on evidence rests on.
    """

    name: str
    version: int
    from_stage: str
    to_stage: str
    basis: str
    summary: str
    replaced_version: int | None = None
    evidence_digests: list[str] = field(default_factory=list)


@event_type("PromotionOverridden")
@dataclass(frozen=True)
class PromotionOverridden(DomainEvent):
    """An approver let a version into production without proof; what was missing is kept."""

    name: str
    version: int
    approver: str
    evidence_problem: str | None


@event_type("ModelArchived")
@dataclass(frozen=True)
class ModelArchived(DomainEvent):
    """A version that was not serving was retired by hand."""

    name: str
    version: int
    from_stage: str


@event_type("ModelFrozen")
@dataclass(frozen=True)
class ModelFrozen(DomainEvent):
    """Every promotion of the model is blocked until it is unfrozen; `source` says who froze it."""

    name: str
    reason: str
    source: str


@event_type("ModelUnfrozen")
@dataclass(frozen=True)
class ModelUnfrozen(DomainEvent):
    """A freeze was lifted."""

    name: str


@event_type("BusinessMetricObserved")
@dataclass(frozen=True)
class BusinessMetricObserved(DomainEvent):
    """A business metric was measured for a version over a period (in the metric's unit)."""

    name: str
    version: int
    metric: str
    value: float
    period: str


@event_type("ModelEvaluated")
@dataclass(frozen=True)
class ModelEvaluated(DomainEvent):
    """The production version's latest observed value was judged against its contract."""

    name: str
    version: int
    metric: str
    value: float
    verdict: str
    period: str


@event_type("ModelRolledBack")
@dataclass(frozen=True)
class ModelRolledBack(DomainEvent):
    """The previous production version serves again; `automatic` when an evaluation did it."""

    name: str
    from_version: int
    to_version: int
    automatic: bool


@event_type("RollbackRefused")
@dataclass(frozen=True)
class RollbackRefused(DomainEvent):
    """A rollback was due or asked for but no previous version exists: a critical alert."""

    name: str
    version: int
    severity: str
    reason: str
