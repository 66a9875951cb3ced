"""The lifecycle of an incident: which step from which status, validation, repeated errors.

Lifecycle (`IncidentStatus`), each step a person's act recorded as an event:

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
from dataclasses import replace

from lucid.contracts.incidents.incident import (
    LEVELS,
    MAX_PROPOSALS,
    MIN_PROPOSALS,
    Incident,
    IncidentStatus,
    RepeatedOf,
    RootCause,
)
from lucid.contracts.names import one_of
from lucid.errors import Conflict, InvalidInput

ALLOWED_FROM: Mapping[str, frozenset[IncidentStatus]] = {
    "acknowledge": frozenset({IncidentStatus.OPEN}),
    "diagnose": frozenset({IncidentStatus.ACKNOWLEDGED, IncidentStatus.DIAGNOSED}),
    "propose": frozenset({IncidentStatus.DIAGNOSED, IncidentStatus.PROPOSED}),
    "link_experiment": frozenset({IncidentStatus.PROPOSED, IncidentStatus.EXPERIMENTING}),
    "record_lesson": frozenset(
        {IncidentStatus.DIAGNOSED, IncidentStatus.PROPOSED, IncidentStatus.EXPERIMENTING}
    ),
    "resolve": frozenset(
        {IncidentStatus.DIAGNOSED, IncidentStatus.PROPOSED, IncidentStatus.EXPERIMENTING}
    ),
}
"""The statuses from which each step may be taken."""

_NEXT_STEP: Mapping[IncidentStatus, str] = {
    IncidentStatus.OPEN: "acknowledge it first",
    IncidentStatus.ACKNOWLEDGED: "diagnose it first",
    IncidentStatus.DIAGNOSED: "record proposals or a lesson next",
    IncidentStatus.PROPOSED: "link an experiment, record a lesson or resolve it",
    IncidentStatus.EXPERIMENTING: "record a lesson and resolve it",
    IncidentStatus.CLOSED: "it is closed for good; a new failure opens a new incident",
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
    return one_of(value, "level", LEVELS)


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
        statuses = " or ".join(s.value for s in IncidentStatus if s in allowed)
        raise Conflict(
            f"Incident {incident.id} is {incident.status.value}: {step.replace('_', ' ')} needs "
            f"it to be {statuses}; {_NEXT_STEP[incident.status]}."
        )


# -- transitions -----------------------------------------------------------------------------


def acknowledged(incident: Incident, *, actor: str, at: str) -> Incident:
    require_step(incident, "acknowledge")
    return replace(
        incident,
        status=IncidentStatus.ACKNOWLEDGED,
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
        status=IncidentStatus.DIAGNOSED,
        root_cause=category,
        diagnosis=_text(details, "diagnosis"),
        participants=participants(people),
        repeated_of=repeated_error(incident, category, earlier),
    )


def proposed(incident: Incident, values: object) -> Incident:
    require_step(incident, "propose")
    return replace(incident, status=IncidentStatus.PROPOSED, proposals=proposals(values))


def experiment_linked(incident: Incident, experiment_id: object) -> Incident:
    require_step(incident, "link_experiment")
    return replace(
        incident,
        status=IncidentStatus.EXPERIMENTING,
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
    return replace(incident, status=IncidentStatus.CLOSED, resolution=said, closed_at=at)


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
