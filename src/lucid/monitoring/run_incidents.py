"""A run's incident: a warning or critical run opens one for its model, or updates the open one.

Rule: a run at warning or critical opens an incident (`IncidentOpened`, detection time = the
run's time, window start kept so detection delay can be computed; its summary lists what each
failing check found moved, from which people start their diagnosis) unless one is not closed
yet, which it updates (`IncidentUpdated`). A later OK run sets the incident's `recovered_at`
(`IncidentUpdated` with `recovered`, its time = time to recovery); a failing run clears it.
A run with no failing check but some check without enough data opens none; it recovers the
incident only when every check that failed in the incident's last failing run (`last_run_id`,
which only failing and recovering runs set) is measured ok: a quiet source that never reaches
the minimum rows cannot hold an incident open forever, and a check that cannot be judged is
not taken for recovered. Monitoring never changes an incident's lifecycle status:
acknowledging, diagnosing and closing (with a lesson) belong to the learning loop
(`lucid.memory.incident_lifecycle`); once an incident is closed, the next failing run opens a
new one. A run does this once: a resumed run whose incident step was taken does not do it
again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.monitoring_events import IncidentOpened, IncidentUpdated
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.diagnostics import findings
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.records import IncidentRecord
from lucid.ports.unit_of_work import UnitOfWork, UnitsOfWork

ACTOR = "monitoring"


def non_ok(evaluation: PolicyEvaluation) -> list[str]:
    return [
        f"{c.threshold.key}"
        + (
            f"[{c.measurement.feature}]"
            if c.measurement.feature and not c.threshold.feature
            else ""
        )
        + (f"@{c.measurement.segment}" if c.measurement.segment else "")
        + f"={c.level.value}"
        for c in evaluation.checks
        if c.level in (Level.WARNING, Level.CRITICAL)
    ]


INCIDENT_STEP = "incident"
"""The follow-up step of a run that opens, updates or recovers its model's incident."""


def record_incident(
    uows: UnitsOfWork,
    model: str,
    run_id: str,
    evaluation: PolicyEvaluation,
    window_start: str,
    now: datetime,
) -> IncidentRecord | None:
    """Open, update or recover the model's incident after a run; None when nothing applies.
    Done once per run: the step is marked taken in the incident's own unit of work, and a
    second call for the same run changes nothing and returns the model's current incident."""
    with uows() as uow:
        if uow.monitoring.step_taken(run_id, INCIDENT_STEP) is None:
            outcome = _record(uow, model, run_id, evaluation, window_start, now)
            uow.monitoring.mark_step(run_id, INCIDENT_STEP, outcome, now)
        return uow.monitoring.open_incident(model)


def _worse(level: Level, current: IncidentRecord) -> str:
    """The level an incident keeps: the worst it reached (warning or critical), not the
    latest."""
    failing = level in (Level.WARNING, Level.CRITICAL)
    return level.value if failing and Level(current.level) < level else current.level


def _record(
    uow: UnitOfWork,
    model: str,
    run_id: str,
    evaluation: PolicyEvaluation,
    window_start: str,
    now: datetime,
) -> str:
    level = evaluation.level
    current = uow.monitoring.open_incident(model)
    failing = level in (Level.WARNING, Level.CRITICAL)
    if current is None:
        if not failing:
            return "none"
        found = findings([c.to_dict() for c in evaluation.checks])
        _open(uow, model, run_id, level, non_ok(evaluation), found, window_start, now)
        return "opened"
    if current.recovered_at is not None and not failing:
        return "none"  # already recovered; nothing new to say until it fails again
    recovered = level is Level.OK or (not failing and _failed_checks_ok(uow, current, evaluation))
    at = format_time(now)
    # Only the metric's facts change here; the lifecycle status belongs to people.
    values: dict[str, object] = {"level": _worse(level, current)}
    if failing or recovered:
        values.update(last_run_id=run_id)
    if recovered:
        values.update(recovered_at=at)
    elif failing:
        values.update(recovered_at=None)
    if uow.monitoring.update_incident(current.id, values):
        checks = non_ok(evaluation)
        uow.record(
            NewEvent.of(
                IncidentUpdated(model, current.id, run_id, level.value, at, recovered, checks),
                actor=ACTOR,
                subject=model_subject(model),
                rationale=(
                    f"monitoring run {run_id} is {level.value}"
                    + (": recovered" if recovered else (f": {', '.join(checks)}" if checks else ""))
                ),
                occurred_at=now,
            )
        )
    return "recovered" if recovered else "updated"


def _failed_checks_ok(
    uow: UnitOfWork, current: IncidentRecord, evaluation: PolicyEvaluation
) -> bool:
    """Whether every check that failed in the incident's last failing run is ok now."""
    if current.last_run_id is None:
        return False
    last = uow.monitoring.get_run(current.last_run_id)
    failed = {
        (c["threshold"], c.get("feature"), c.get("segment"))
        for c in last.checks
        if c["level"] in (Level.WARNING.value, Level.CRITICAL.value)
    }
    now = {
        (c.threshold.key, c.measurement.feature, c.measurement.segment): c.level
        for c in evaluation.checks
    }
    return bool(failed) and all(now.get(key) is Level.OK for key in failed)


def _open(
    uow: UnitOfWork,
    model: str,
    run_id: str,
    level: Level,
    checks: list[str],
    found: list[str],
    window_start: str,
    now: datetime,
) -> None:
    """Open the model's incident; its summary is the run's findings, one line per failing
    check (what moved), from which people diagnose it."""
    at = format_time(now)
    summary = f"Monitoring run {run_id} found:\n" + "\n".join(f"- {line}" for line in found)
    incident = IncidentRecord(
        str(uuid.uuid4()), model, "open", level.value, at, window_start, run_id, None, summary
    )
    uow.monitoring.add_incident(incident)
    uow.record(
        NewEvent.of(
            IncidentOpened(model, incident.id, run_id, level.value, at, window_start, checks),
            actor=ACTOR,
            subject=model_subject(model),
            rationale=f"monitoring run {run_id} is {level.value}: {'; '.join(found)}",
            occurred_at=now,
        )
    )
