"""Incidents of the learning loop: their lifecycle, root causes, repeated errors and figures.

By concept: `incident` (the stored incident, its status and root cause), `lifecycle` (which
step from which status, validation, the repeated-error rule), `figures` (the scorecard's
incident figures, a pure fold), `events`. Pure: no I/O.
"""

from lucid.contracts.incidents.events import (
    ExperimentLinked,
    IncidentAcknowledged,
    IncidentClosed,
    IncidentDiagnosed,
    IncidentReported,
    KnownShiftDeclared,
    LessonRecorded,
    ProposalsRecorded,
)
from lucid.contracts.incidents.figures import (
    INCIDENT_EVENT_TYPES,
    IncidentFacts,
    IncidentFigures,
    facts_from_events,
    incident_figures,
)
from lucid.contracts.incidents.incident import (
    LEVELS,
    MAX_PROPOSALS,
    MIN_PROPOSALS,
    ROOT_CAUSES,
    Incident,
    IncidentStatus,
    RepeatedOf,
    RootCause,
)
from lucid.contracts.incidents.lifecycle import (
    ALLOWED_FROM,
    acknowledged,
    closed,
    diagnosed,
    experiment_linked,
    lesson_recorded,
    level,
    participants,
    proposals,
    proposed,
    repeated_error,
    require_step,
    root_cause,
)

__all__ = [
    "ALLOWED_FROM",
    "INCIDENT_EVENT_TYPES",
    "LEVELS",
    "MAX_PROPOSALS",
    "MIN_PROPOSALS",
    "ROOT_CAUSES",
    "ExperimentLinked",
    "Incident",
    "IncidentAcknowledged",
    "IncidentClosed",
    "IncidentDiagnosed",
    "IncidentFacts",
    "IncidentFigures",
    "IncidentReported",
    "IncidentStatus",
    "KnownShiftDeclared",
    "LessonRecorded",
    "ProposalsRecorded",
    "RepeatedOf",
    "RootCause",
    "acknowledged",
    "closed",
    "diagnosed",
    "experiment_linked",
    "facts_from_events",
    "incident_figures",
    "lesson_recorded",
    "level",
    "participants",
    "proposals",
    "proposed",
    "repeated_error",
    "require_step",
    "root_cause",
]
