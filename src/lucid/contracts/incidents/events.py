"""The events of the incidents' lifecycle (monitoring's own are in `monitoring_events`)."""

from __future__ import annotations

from dataclasses import dataclass

from lucid.contracts.events import DomainEvent, event_type


@event_type("IncidentReported")
@dataclass(frozen=True)
class IncidentReported(DomainEvent):
    """Someone opened an incident by hand (monitoring opens its own with IncidentOpened)."""

    model: str
    incident_id: str
    level: str
    summary: str
    opened_at: str


@event_type("IncidentAcknowledged")
@dataclass(frozen=True)
class IncidentAcknowledged(DomainEvent):
    """Someone took the incident in hand."""

    model: str
    incident_id: str


@event_type("IncidentDiagnosed")
@dataclass(frozen=True)
class IncidentDiagnosed(DomainEvent):
    """A shared diagnosis: root-cause category, details, participants; `repeated_of` names
    the earlier incident whose root cause came back (None when it is new)."""

    model: str
    incident_id: str
    root_cause: str
    details: str
    participants: list[str]
    repeated_of: str | None
    repeated_lesson: str | None


@event_type("ProposalsRecorded")
@dataclass(frozen=True)
class ProposalsRecorded(DomainEvent):
    """The 2 or 3 testable hypotheses proposed to fix the incident."""

    model: str
    incident_id: str
    proposals: list[str]


@event_type("ExperimentLinked")
@dataclass(frozen=True)
class ExperimentLinked(DomainEvent):
    """The A/B experiment that tests the incident's proposals."""

    model: str
    incident_id: str
    experiment_id: str


@event_type("LessonRecorded")
@dataclass(frozen=True)
class LessonRecorded(DomainEvent):
    """What was learnt from the incident (a later one replaces it until the incident closes)."""

    model: str
    incident_id: str
    lesson: str


@event_type("IncidentClosed")
@dataclass(frozen=True)
class IncidentClosed(DomainEvent):
    """The incident was resolved and closed, with its lesson."""

    model: str
    incident_id: str
    resolution: str
    lesson: str


@event_type("KnownShiftDeclared")
@dataclass(frozen=True)
class KnownShiftDeclared(DomainEvent):
    """A shift whose start is known (a drill, the scenario's referee): it measures detection
    delay and undetected incidents, nothing else."""

    started_at: str
    description: str
