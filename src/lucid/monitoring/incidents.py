"""Incidents: a warning or critical run opens one for its model, or updates the open one.

Rule: a run at warning or critical opens an incident (`IncidentOpened`, detection time = the
run's time, window start kept so detection delay can be computed) unless one is not closed
yet, which it updates (`IncidentUpdated`). A later OK run sets the incident's `recovered_at`
(`IncidentUpdated` with `recovered`, its time = time to recovery); a failing run clears it.
An insufficient-data run updates an incident without recovering it and opens none: it could
not judge. Monitoring never changes an incident's lifecycle status: acknowledging, diagnosing
and closing (with a lesson) belong to the learning loop (`lucid.memory.incident_lifecycle`); once an
incident is closed, the next failing run opens a new one. A run does this once: a resumed
run whose incident step was taken does not do it again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.monitoring_events import IncidentOpened, IncidentUpdated
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity import Evaluation, Level
from lucid.storage.alerts import IncidentRecord, SqlAlertStore
from lucid.storage.event_log import EVENT_LOCK
from lucid.storage.monitoring import SqlMonitoringStore

ACTOR = "monitoring"


def non_ok(evaluation: Evaluation) -> list[str]:
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
    store: SqlAlertStore,
    model: str,
    run_id: str,
    evaluation: Evaluation,
    window_start: str,
    now: datetime,
) -> IncidentRecord | None:
    """Open, update or recover the model's incident after a run; None when nothing applies.
    Done once per run: the step is marked taken in the incident's own transaction, and a
    second call for the same run changes nothing and returns the model's current incident."""
    with store.db.locked_transaction(EVENT_LOCK) as connection:
        if SqlMonitoringStore.step_taken(connection, run_id, INCIDENT_STEP) is not None:
            return store.open_incident(model, connection)
        outcome = _record(connection, store, model, run_id, evaluation, window_start, now)
        SqlMonitoringStore.mark_step(connection, run_id, INCIDENT_STEP, outcome, now)
        return store.open_incident(model, connection)


def _record(
    connection: Connection,
    store: SqlAlertStore,
    model: str,
    run_id: str,
    evaluation: Evaluation,
    window_start: str,
    now: datetime,
) -> str:
    level = evaluation.level
    at = format_time(now)
    checks = non_ok(evaluation)
    current = store.open_incident(model, connection)
    subject = model_subject(model)
    if current is None:
        if level not in (Level.WARNING, Level.CRITICAL):
            return "none"
        incident = IncidentRecord(
            str(uuid.uuid4()), model, "open", level.value, at, window_start, run_id, None
        )
        store.insert_incident(
            incident,
            NewEvent.of(
                IncidentOpened(model, incident.id, run_id, level.value, at, window_start, checks),
                actor=ACTOR,
                subject=subject,
                rationale=f"monitoring run {run_id} is {level.value}: {', '.join(checks)}",
                occurred_at=now,
            ),
            connection,
        )
        return "opened"
    if current.recovered_at is not None and level not in (Level.WARNING, Level.CRITICAL):
        return "none"  # already recovered; nothing new to say until it fails again
    recovered = level is Level.OK
    # Only the metric's facts change here; the lifecycle status belongs to people.
    # The incident keeps the worst level it reached (warning or critical), not the latest.
    worst = (
        level.value
        if level in (Level.WARNING, Level.CRITICAL) and Level(current.level) < level
        else current.level
    )
    values: dict[str, object] = {"level": worst, "last_run_id": run_id}
    if recovered:
        values.update(recovered_at=at)
    elif level in (Level.WARNING, Level.CRITICAL):
        values.update(recovered_at=None)
    store.update_incident(
        current.id,
        values,
        NewEvent.of(
            IncidentUpdated(model, current.id, run_id, level.value, at, recovered, checks),
            actor=ACTOR,
            subject=subject,
            rationale=(
                f"monitoring run {run_id} is {level.value}"
                + (": recovered" if recovered else (f": {', '.join(checks)}" if checks else ""))
            ),
            occurred_at=now,
        ),
        connection,
    )
    return "recovered" if recovered else "updated"
