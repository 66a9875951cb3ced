"""The incidents of the learning loop: from detection to a closed incident with its lesson.

Monitoring opens incidents (`lucid.monitoring.run_incidents`); people open one by hand, take it in
hand, diagnose it, propose 2–3 testable fixes, link the experiment testing them, write the
lesson and resolve it. The rules (which step from which status, the root-cause list, the
repeated-error rule, the figures) are pure, in `lucid.contracts.incidents`; here each step is
one unit of work writing the incident and its event, so two people acting on the same
incident at once cannot both pass the same step. Known shift starts (drills, the scenario's
referee) are events only, read back to measure detection delay and undetected shifts.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from lucid.contracts.events import DomainEvent, NewEvent, Subject, format_time, parse_time
from lucid.contracts.experiments.design import Design
from lucid.contracts.identities import normalise_identity
from lucid.contracts.incidents import lifecycle as rules
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
from lucid.contracts.incidents.figures import IncidentFacts, IncidentFigures, figures_change_at
from lucid.contracts.incidents.figures import incident_figures as figures_of
from lucid.contracts.incidents.incident import Incident, IncidentStatus
from lucid.contracts.registry_events import model_subject
from lucid.contracts.times import utc_text
from lucid.contracts.value import text
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.ports.event_log import EventLog
from lucid.ports.unit_of_work import UnitsOfWork

SHIFTS_SUBJECT = Subject("shifts", "known")
"""The subject of every `KnownShiftDeclared`: one indexed read gives them all."""

Transition = Callable[[Incident, Sequence[Incident]], tuple[Incident, NewEvent]]
"""(the incident, the model's other incidents) → (the changed incident, its event)."""


class RegisteredModels(Protocol):
    """What incidents ask of the model registry: a model exists (NotFound otherwise)."""

    def versions(self, name: str) -> Sequence[object]: ...


class ExperimentDesigns(Protocol):
    """What incidents ask of the experiments: the design of one (NotFound otherwise)."""

    def design(self, experiment_id: str) -> Design: ...


def _status(value: str | None) -> IncidentStatus | None:
    if value is None:
        return None
    try:
        return IncidentStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in IncidentStatus)
        raise InvalidInput(
            "status", f"{value!r} is not an incident status (one of {allowed})"
        ) from None


class Incidents:
    """Incidents from detection to lesson, and their scorecard figures (an IncidentSource)."""

    def __init__(
        self,
        uows: UnitsOfWork,
        events: EventLog,
        *,
        clock: Callable[[], datetime],
        registry: Callable[[], RegisteredModels] | None = None,
        experiments: Callable[[], ExperimentDesigns] | None = None,
    ) -> None:
        self._uows = uows
        self._events = events
        self._registry = registry
        self._experiments = experiments
        self._clock = clock

    # -- reading -----------------------------------------------------------------------------

    def list(self, model: str | None = None, status: str | None = None) -> list[Incident]:
        """Incidents, oldest first; of one model and/or in one status."""
        wanted = _status(status)
        with self._uows.read() as uow:
            return uow.incidents.find(model, wanted)

    def get(self, incident_id: str) -> Incident:
        with self._uows.read() as uow:
            found = uow.incidents.get(incident_id)
        if found is None:
            raise NotFound(f"No incident has the id {incident_id}.")
        return found

    # -- the lifecycle -----------------------------------------------------------------------

    def open(self, model: str, *, summary: str, level: str, actor: str) -> Incident:
        """Open an incident by hand (detection = now); refused while the model has one not
        closed, or when no such model is registered."""
        who = normalise_identity(actor, "actor")
        said = text(summary, "summary")
        grade = rules.level(level)
        if self._registry is not None:
            self._registry().versions(model)  # NotFound with a sentence
        at = format_time(self._clock())
        incident = Incident(
            str(uuid.uuid4()),
            model,
            IncidentStatus.OPEN,
            grade,
            at,
            at,
            summary=said,
            opened_by=who,
        )
        with self._uows() as uow:
            current = uow.incidents.not_closed(model)
            if current is not None:
                raise Conflict(
                    f"Model {model} already has incident {current} not closed: "
                    "work on it rather than opening another."
                )
            uow.incidents.add(incident)
            uow.record(
                NewEvent.of(
                    IncidentReported(model, incident.id, grade, said, at),
                    actor=who,
                    subject=model_subject(model),
                    rationale=f"{who} opened a {grade} incident by hand: {said}",
                    occurred_at=parse_time(at),
                )
            )
        return incident

    def acknowledge(self, incident_id: str, *, actor: str) -> Incident:
        who = normalise_identity(actor, "actor")
        moment = self._clock()

        def step(incident: Incident, _: Sequence[Incident]) -> tuple[Incident, NewEvent]:
            changed = rules.acknowledged(incident, actor=who, at=format_time(moment))
            event = IncidentAcknowledged(incident.model, incident.id)
            return changed, self._event(changed, event, who, f"{who} took it in hand", moment)

        return self._change(incident_id, step)

    def diagnose(
        self,
        incident_id: str,
        *,
        root_cause: str,
        details: str,
        participants: Sequence[str],
        actor: str,
    ) -> Incident:
        """Record the shared diagnosis; flags a repeated error (see the contracts' rule)."""
        who = normalise_identity(actor, "actor")
        moment = self._clock()

        def step(incident: Incident, others: Sequence[Incident]) -> tuple[Incident, NewEvent]:
            changed = rules.diagnosed(
                incident, cause=root_cause, details=details, people=participants, earlier=others
            )
            assert changed.root_cause is not None and changed.diagnosis is not None
            repeated = changed.repeated_of
            event = IncidentDiagnosed(
                incident.model,
                incident.id,
                changed.root_cause.value,
                changed.diagnosis,
                list(changed.participants),
                None if repeated is None else repeated.incident_id,
                None if repeated is None else repeated.lesson,
            )
            why = f"root cause {changed.root_cause.value}: {changed.diagnosis}" + (
                ""
                if repeated is None
                else f" (a repeated error: incident {repeated.incident_id} had the same cause)"
            )
            return changed, self._event(changed, event, who, why, moment)

        return self._change(incident_id, step)

    def propose(self, incident_id: str, proposals: Sequence[str], *, actor: str) -> Incident:
        """Record 2 or 3 testable proposals (a later call replaces them until one is tested)."""
        who = normalise_identity(actor, "actor")
        moment = self._clock()

        def step(incident: Incident, _: Sequence[Incident]) -> tuple[Incident, NewEvent]:
            changed = rules.proposed(incident, proposals)
            event = ProposalsRecorded(incident.model, incident.id, list(changed.proposals))
            why = "proposed: " + "; ".join(changed.proposals)
            return changed, self._event(changed, event, who, why, moment)

        return self._change(incident_id, step)

    def link_experiment(self, incident_id: str, experiment_id: str, *, actor: str) -> Incident:
        """Tie the experiment testing the proposals; it must exist and be on the same model."""
        who = normalise_identity(actor, "actor")
        moment = self._clock()
        model_of_experiment: str | None = None
        if self._experiments is not None:
            design = self._experiments().design(experiment_id)
            experiment_id, model_of_experiment = design.experiment_id, design.model

        def step(incident: Incident, _: Sequence[Incident]) -> tuple[Incident, NewEvent]:
            if model_of_experiment is not None and model_of_experiment != incident.model:
                raise InvalidInput(
                    "experiment_id",
                    f"experiment {experiment_id} tests model {model_of_experiment}, not "
                    f"{incident.model}, the model of incident {incident.id}",
                )
            changed = rules.experiment_linked(incident, experiment_id)
            event = ExperimentLinked(incident.model, incident.id, experiment_id)
            why = f"experiment {experiment_id} tests the proposals"
            return changed, self._event(changed, event, who, why, moment)

        return self._change(incident_id, step)

    def record_lesson(self, incident_id: str, lesson: str, *, actor: str) -> Incident:
        who = normalise_identity(actor, "actor")
        moment = self._clock()

        def step(incident: Incident, _: Sequence[Incident]) -> tuple[Incident, NewEvent]:
            changed = rules.lesson_recorded(incident, lesson)
            assert changed.lesson is not None
            event = LessonRecorded(incident.model, incident.id, changed.lesson)
            return changed, self._event(changed, event, who, f"lesson: {changed.lesson}", moment)

        return self._change(incident_id, step)

    def resolve(self, incident_id: str, *, resolution: str, actor: str) -> Incident:
        """Close the incident; refused (Conflict) while no lesson is recorded."""
        who = normalise_identity(actor, "actor")
        moment = self._clock()

        def step(incident: Incident, _: Sequence[Incident]) -> tuple[Incident, NewEvent]:
            changed = rules.closed(incident, resolution=resolution, at=format_time(moment))
            assert changed.resolution is not None and changed.lesson is not None
            event = IncidentClosed(incident.model, incident.id, changed.resolution, changed.lesson)
            why = f"resolved: {changed.resolution}"
            return changed, self._event(changed, event, who, why, moment)

        return self._change(incident_id, step)

    # -- measuring ---------------------------------------------------------------------------

    def declare_shift(self, started_at: datetime, *, description: str, actor: str) -> None:
        """Record a shift whose start is known (a drill, the scenario's referee)."""
        who = normalise_identity(actor, "actor")
        said = text(description, "description")
        start = utc_text(started_at, "started_at")
        with self._uows() as uow:
            uow.record(
                NewEvent.of(
                    KnownShiftDeclared(start, said),
                    actor=who,
                    subject=SHIFTS_SUBJECT,
                    rationale=f"a known shift started at {start}: {said}",
                    occurred_at=self._clock(),
                )
            )

    def shift_starts(self) -> builtins.list[datetime]:
        """Every declared shift start, in declaration order."""
        found: builtins.list[datetime] = []
        after = 0
        while True:
            page = self._events.read(
                after=after, limit=1000, type="KnownShiftDeclared", subject=str(SHIFTS_SUBJECT)
            )
            found.extend(parse_time(e.payload["started_at"]) for e in page)
            if len(page) < 1000:
                return found
            after = page[-1].seq

    def incident_figures(self) -> IncidentFigures:
        """The scorecard's incident figures now (the rules: `contracts.incidents.figures`)."""
        facts = [IncidentFacts.of(i) for i in self.list()]
        return figures_of(facts, self.shift_starts(), self._clock())

    def figures_valid_until(self, moment: datetime) -> datetime | None:
        """When the incident figures measured at `moment` change with no write (the rule:
        `contracts.incidents.figures.figures_change_at`); None: never."""
        return figures_change_at(self.shift_starts(), moment)

    def _change(self, incident_id: str, transition: Transition) -> Incident:
        """Apply `transition` to the stored incident; write the result with its event."""
        with self._uows() as uow:
            current = uow.incidents.get(incident_id)
            if current is None:
                raise NotFound(f"No incident has the id {incident_id}.")
            changed, event = transition(current, uow.incidents.others(current.model, current.id))
            uow.incidents.save(changed)
            uow.record(event)
        return changed

    def _event(
        self, incident: Incident, event: DomainEvent, actor: str, why: str, moment: datetime
    ) -> NewEvent:
        return NewEvent.of(
            event,
            actor=actor,
            subject=model_subject(incident.model),
            rationale=f"incident {incident.id}: {why}",
            occurred_at=moment,
        )
