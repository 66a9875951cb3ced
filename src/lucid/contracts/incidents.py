"""Incidents of the learning loop: their lifecycle, root causes, repeated errors and figures.

Lifecycle (`Status`), each step a person's act recorded as an event:

    open → acknowledged → diagnosed → proposed → experimenting → closed

- `acknowledge` takes an open incident in hand;
- `diagnose` (acknowledged or diagnosed: a diagnosis may be revised until proposals exist)
  names a root cause from `RootCause`, explains it and lists the participants (at least one,
  each a team or a person of a team, e.g. `data-science` or `ana (marketing)`);
- `propose` (diagnosed or proposed) records 2 or 3 distinct testable proposals (retrain? new
  features? another algorithm?);
- `link_experiment` (proposed or experimenting) ties the A/B experiment testing them;
- `record_lesson` (diagnosed, proposed or experimenting) writes, or rewrites, the lesson;
- `resolve` (diagnosed, proposed or experimenting) closes the incident with its resolution,
  and is refused while no lesson is recorded: an incident never closes without a lesson.

`recovered_at` is a fact about the metric, set by monitoring when a run is OK again; it is no
lifecycle step and changes no status. A closed incident is never reopened: monitoring opens a
new one when the model fails again.

Repeated error: a diagnosis whose root cause was already diagnosed for the *same model* on an
earlier incident (opened before this one) that has a recorded lesson is flagged repeated; it
links the most recent such incident and its lesson (`repeated_of`).

Pure: no I/O; times are canonical UTC texts (`lucid.contracts.events.format_time`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from lucid.contracts.events import DomainEvent, RecordedEvent, event_type, parse_time
from lucid.errors import Conflict, InvalidInput

MIN_PROPOSALS = 2
MAX_PROPOSALS = 3
LEVELS = ("warning", "critical")
"""The levels an incident may have (those of the monitoring run that opened it)."""


class Status(StrEnum):
    """Where an incident is in the loop."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DIAGNOSED = "diagnosed"
    PROPOSED = "proposed"
    EXPERIMENTING = "experimenting"
    CLOSED = "closed"


class RootCause(StrEnum):
    """The controlled list of root-cause categories (free text goes in the diagnosis)."""

    DATA_DRIFT = "data_drift"
    CONCEPT_DRIFT = "concept_drift"
    DATA_QUALITY = "data_quality"
    PIPELINE_FAILURE = "pipeline_failure"
    DEFINITION_CHANGE = "definition_change"
    UPSTREAM_CHANGE = "upstream_change"
    MODEL_DECAY = "model_decay"


ROOT_CAUSES: Mapping[RootCause, str] = {
    RootCause.DATA_DRIFT: "the inputs' distribution moved (new behaviour, new segment)",
    RootCause.CONCEPT_DRIFT: "the link between inputs and outcome changed",
    RootCause.DATA_QUALITY: "missing, wrong or duplicated values in the inputs",
    RootCause.PIPELINE_FAILURE: "a job computing, moving or serving data or predictions failed",
    RootCause.DEFINITION_CHANGE: "a feature or business metric changed meaning",
    RootCause.UPSTREAM_CHANGE: "a system or team upstream changed what it sends",
    RootCause.MODEL_DECAY: "the model aged without a single identifiable shift",
}

ALLOWED_FROM: Mapping[str, frozenset[Status]] = {
    "acknowledge": frozenset({Status.OPEN}),
    "diagnose": frozenset({Status.ACKNOWLEDGED, Status.DIAGNOSED}),
    "propose": frozenset({Status.DIAGNOSED, Status.PROPOSED}),
    "link_experiment": frozenset({Status.PROPOSED, Status.EXPERIMENTING}),
    "record_lesson": frozenset({Status.DIAGNOSED, Status.PROPOSED, Status.EXPERIMENTING}),
    "resolve": frozenset({Status.DIAGNOSED, Status.PROPOSED, Status.EXPERIMENTING}),
}
"""The statuses from which each step may be taken."""

_NEXT_STEP: Mapping[Status, str] = {
    Status.OPEN: "acknowledge it first",
    Status.ACKNOWLEDGED: "diagnose it first",
    Status.DIAGNOSED: "record proposals or a lesson next",
    Status.PROPOSED: "link an experiment, record a lesson or resolve it",
    Status.EXPERIMENTING: "record a lesson and resolve it",
    Status.CLOSED: "it is closed for good; a new failure opens a new incident",
}


@dataclass(frozen=True, slots=True)
class RepeatedOf:
    """The earlier incident whose root cause came back, and the lesson it left."""

    incident_id: str
    lesson: str

    def to_dict(self) -> dict[str, str]:
        return {"incident_id": self.incident_id, "lesson": self.lesson}


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as stored: `opened_at` is the detection time, `window_start` the start of
    the window where monitoring saw the problem (the opening time for one opened by hand)."""

    id: str
    model: str
    status: Status
    level: str
    opened_at: str
    window_start: str
    last_run_id: str | None = None
    recovered_at: str | None = None
    summary: str | None = None
    opened_by: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    root_cause: RootCause | None = None
    diagnosis: str | None = None
    participants: tuple[str, ...] = ()
    proposals: tuple[str, ...] = ()
    experiment_id: str | None = None
    resolution: str | None = None
    lesson: str | None = None
    closed_at: str | None = None
    repeated_of: RepeatedOf | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "status": self.status.value,
            "level": self.level,
            "opened_at": self.opened_at,
            "window_start": self.window_start,
            "last_run_id": self.last_run_id,
            "recovered_at": self.recovered_at,
            "summary": self.summary,
            "opened_by": self.opened_by,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "root_cause": None if self.root_cause is None else self.root_cause.value,
            "diagnosis": self.diagnosis,
            "participants": list(self.participants),
            "proposals": list(self.proposals),
            "experiment_id": self.experiment_id,
            "resolution": self.resolution,
            "lesson": self.lesson,
            "closed_at": self.closed_at,
            "repeated_of": None if self.repeated_of is None else self.repeated_of.to_dict(),
        }


# -- validation ------------------------------------------------------------------------------


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, f"must be non-empty text, not {value!r}")
    return value.strip()


def root_cause(value: object) -> RootCause:
    """`value` as a root-cause category, or a sentence listing the allowed ones."""
    for cause in RootCause:
        if cause.value == value:
            return cause
    allowed = ", ".join(c.value for c in RootCause)
    raise InvalidInput(
        "root_cause", f"{value!r} is not a known root-cause category (one of {allowed})"
    )


def level(value: object) -> str:
    """An incident level: warning or critical."""
    if value not in LEVELS:
        raise InvalidInput("level", f"must be warning or critical, not {value!r}")
    return str(value)


def participants(values: object) -> tuple[str, ...]:
    """At least one participant, each non-empty, none twice."""
    names = _texts(values, "participants")
    if not names:
        raise InvalidInput(
            "participants", "a diagnosis is shared: name at least one team or person"
        )
    return names


def proposals(values: object) -> tuple[str, ...]:
    """Two or three distinct testable proposals."""
    found = _texts(values, "proposals")
    if not MIN_PROPOSALS <= len(found) <= MAX_PROPOSALS:
        raise InvalidInput(
            "proposals",
            f"must be {MIN_PROPOSALS} or {MAX_PROPOSALS} testable hypotheses (retrain? new "
            f"features? another algorithm?), not {len(found)}",
        )
    return found


def _texts(values: object, field: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInput(field, f"must be a list of texts, not {values!r}")
    found = tuple(_text(value, field) for value in values)
    seen: set[str] = set()
    for value in found:
        if value.casefold() in seen:
            raise InvalidInput(field, f"{value!r} is given twice")
        seen.add(value.casefold())
    return found


def require_step(incident: Incident, step: str) -> None:
    """Refuse `step` unless the incident's status allows it (a sentence saying what's next)."""
    allowed = ALLOWED_FROM[step]
    if incident.status not in allowed:
        statuses = " or ".join(s.value for s in Status if s in allowed)
        raise Conflict(
            f"Incident {incident.id} is {incident.status.value}: {step.replace('_', ' ')} needs "
            f"it to be {statuses}; {_NEXT_STEP[incident.status]}."
        )


# -- transitions -----------------------------------------------------------------------------


def acknowledged(incident: Incident, *, actor: str, at: str) -> Incident:
    require_step(incident, "acknowledge")
    return replace(
        incident,
        status=Status.ACKNOWLEDGED,
        acknowledged_by=_text(actor, "actor"),
        acknowledged_at=at,
    )


def diagnosed(
    incident: Incident,
    *,
    cause: object,
    details: object,
    people: object,
    earlier: Iterable[Incident],
) -> Incident:
    """The incident with its diagnosis; `earlier` are the model's other incidents."""
    require_step(incident, "diagnose")
    category = root_cause(cause)
    return replace(
        incident,
        status=Status.DIAGNOSED,
        root_cause=category,
        diagnosis=_text(details, "diagnosis"),
        participants=participants(people),
        repeated_of=repeated_error(incident, category, earlier),
    )


def proposed(incident: Incident, values: object) -> Incident:
    require_step(incident, "propose")
    return replace(incident, status=Status.PROPOSED, proposals=proposals(values))


def experiment_linked(incident: Incident, experiment_id: object) -> Incident:
    require_step(incident, "link_experiment")
    return replace(
        incident,
        status=Status.EXPERIMENTING,
        experiment_id=_text(experiment_id, "experiment_id"),
    )


def lesson_recorded(incident: Incident, lesson: object) -> Incident:
    require_step(incident, "record_lesson")
    return replace(incident, lesson=_text(lesson, "lesson"))


def closed(incident: Incident, *, resolution: object, at: str) -> Incident:
    """The incident closed; refused without a lesson (the loop's one unbreakable rule)."""
    require_step(incident, "resolve")
    said = _text(resolution, "resolution")
    if incident.lesson is None:
        raise Conflict(
            f"Incident {incident.id} cannot close without a lesson: record what was learnt "
            "first (`lucid incidents lesson`); nothing was changed."
        )
    return replace(incident, status=Status.CLOSED, resolution=said, closed_at=at)


def repeated_error(
    incident: Incident, cause: RootCause, earlier: Iterable[Incident]
) -> RepeatedOf | None:
    """The most recent earlier incident of the same model with the same root cause and a
    lesson (opened before `incident`), or None: the repeated-error rule."""
    matches = [
        other
        for other in earlier
        if other.id != incident.id
        and other.model == incident.model
        and other.root_cause is cause
        and other.lesson is not None
        and other.opened_at < incident.opened_at
    ]
    if not matches:
        return None
    last = max(matches, key=lambda other: (other.opened_at, other.id))
    assert last.lesson is not None
    return RepeatedOf(last.id, last.lesson)


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFigures:
    """What incidents measure: days (means), counts, and a percentage; None: nothing to
    measure yet."""

    detection_delay_days: float | None = None
    time_to_recovery_days: float | None = None
    critical_incidents_undetected: int | None = None
    failures_documented_pct: float | None = None
    repeated_errors: int | None = None


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the figures need of one incident."""

    id: str
    opened_at: datetime
    recovered_at: datetime | None
    closed_with_lesson: bool
    repeated: bool

    @classmethod
    def of(cls, incident: Incident) -> IncidentFacts:
        return cls(
            incident.id,
            parse_time(incident.opened_at),
            None if incident.recovered_at is None else parse_time(incident.recovered_at),
            incident.status is Status.CLOSED and incident.lesson is not None,
            incident.repeated_of is not None,
        )


_DAY_SECONDS = 86_400.0


def incident_figures(
    incidents: Sequence[IncidentFacts], shifts: Sequence[datetime], now: datetime
) -> IncidentFigures:
    """The scorecard's incident figures, a pure fold over incidents and known shift starts.

    - `detection_delay_days`: mean, over declared shifts that were detected, of (first
      incident opened at or after the shift start and before the next shift start − the shift
      start), in days; None when no declared shift was detected.
    - `critical_incidents_undetected`: declared shifts (started by `now`) with no incident
      opened between their start and the next shift start (or `now`); None with no shift.
    - `time_to_recovery_days`: mean, over incidents whose metric recovered, of (recovered_at −
      opened_at), in days; None when none recovered.
    - `failures_documented_pct`: 100 × incidents closed with a lesson / all incidents; None
      with no incident.
    - `repeated_errors`: incidents flagged as a repeated error; None with no incident.
    """
    starts = sorted(s for s in shifts if s <= now)
    opened = sorted(i.opened_at for i in incidents)
    delays: list[float] = []
    undetected = 0
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else None
        first = next((t for t in opened if t >= start and (end is None or t < end)), None)
        if first is None:
            undetected += 1
        else:
            delays.append((first - start).total_seconds() / _DAY_SECONDS)
    recoveries = [
        (i.recovered_at - i.opened_at).total_seconds() / _DAY_SECONDS
        for i in incidents
        if i.recovered_at is not None
    ]
    count = len(incidents)
    return IncidentFigures(
        detection_delay_days=sum(delays) / len(delays) if delays else None,
        time_to_recovery_days=sum(recoveries) / len(recoveries) if recoveries else None,
        critical_incidents_undetected=undetected if starts else None,
        failures_documented_pct=(
            100.0 * sum(i.closed_with_lesson for i in incidents) / count if count else None
        ),
        repeated_errors=sum(i.repeated for i in incidents) if count else None,
    )


def facts_from_events(
    events: Iterable[RecordedEvent], until: str | None = None
) -> tuple[list[IncidentFacts], list[datetime]]:
    """Rebuild the incidents' facts and the known shift starts from the event log, as they
    stood at `until` (canonical time text; None: everything); events in chain order."""
    opened: dict[str, str] = {}
    recovered: dict[str, str | None] = {}
    lesson: set[str] = set()
    closed_ids: set[str] = set()
    repeated: dict[str, bool] = {}
    shifts: list[datetime] = []
    for event in events:
        if until is not None and event.occurred_at > until:
            continue
        payload = event.payload
        incident = str(payload.get("incident_id"))
        if event.type == "IncidentOpened":
            opened[incident] = payload["detected_at"]
        elif event.type == "IncidentReported":
            opened[incident] = payload["opened_at"]
        elif event.type == "IncidentUpdated":
            recovered[incident] = payload["observed_at"] if payload["recovered"] else None
        elif event.type == "IncidentDiagnosed":
            repeated[incident] = payload["repeated_of"] is not None
        elif event.type == "LessonRecorded":
            lesson.add(incident)
        elif event.type == "IncidentClosed":
            closed_ids.add(incident)
        elif event.type == "KnownShiftDeclared":
            shifts.append(parse_time(payload["started_at"]))
    facts = [
        IncidentFacts(
            ident,
            parse_time(at),
            None if recovered.get(ident) is None else parse_time(str(recovered[ident])),
            ident in closed_ids and ident in lesson,
            repeated.get(ident, False),
        )
        for ident, at in opened.items()
    ]
    return facts, shifts


INCIDENT_EVENT_TYPES = (
    "IncidentOpened",
    "IncidentReported",
    "IncidentUpdated",
    "IncidentDiagnosed",
    "LessonRecorded",
    "IncidentClosed",
    "KnownShiftDeclared",
)
"""The event types `facts_from_events` reads."""


# -- events ----------------------------------------------------------------------------------


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
