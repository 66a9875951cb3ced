"""The scorecard's incident figures: a pure fold over incidents (or the event log) and the
declared shift starts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from lucid.contracts.events import RecordedEvent, parse_time
from lucid.contracts.incidents.incident import Incident, IncidentStatus


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
            incident.status is IncidentStatus.CLOSED and incident.lesson is not None,
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


def figures_change_at(shifts: Sequence[datetime], now: datetime) -> datetime | None:
    """When the incident figures measured at `now` change with no new incident or shift: the
    first declared shift start after `now` (it then counts as a shift); None: never."""
    return min((s for s in shifts if s > now), default=None)


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
