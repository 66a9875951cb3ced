"""Incidents: a warning or critical run opens one for its model, or updates the open one.

Rule: a run at warning or critical opens an incident (`IncidentOpened`, detection time = the
run's time, window start kept so detection delay can be computed) unless one is not closed
yet, which it updates (`IncidentUpdated`). A later OK run sets the incident's `recovered_at`
(`IncidentUpdated` with `recovered`, its time = time to recovery); a failing run clears it.
An insufficient-data run updates an incident without recovering it and opens none: it could
not judge. Monitoring never changes an incident's lifecycle status: acknowledging, diagnosing
and closing (with a lesson) belong to the learning loop (`lucid.memory.incidents`); once an
incident is closed, the next failing run opens a new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lucid.contracts.events import NewEvent, format_time
from lucid.contracts.monitoring_events import IncidentOpened, IncidentUpdated
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity import Evaluation, Level
from lucid.storage.alerts import IncidentRecord, SqlAlertStore

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


def record_incident(
    store: SqlAlertStore,
    model: str,
    run_id: str,
    evaluation: Evaluation,
    window_start: str,
    now: datetime,
) -> IncidentRecord | None:
    """Open, update or recover the model's incident after a run; None when nothing applies."""
    level = evaluation.level
    at = format_time(now)
    checks = non_ok(evaluation)
    current = store.open_incident(model)
    subject = model_subject(model)
    if current is None:
        if level not in (Level.WARNING, Level.CRITICAL):
            return None
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
        )
        return incident
    if current.recovered_at is not None and level not in (Level.WARNING, Level.CRITICAL):
        return current  # already recovered; nothing new to say until it fails again
    recovered = level is Level.OK
    # Only the metric's facts change here; the lifecycle status belongs to people.
    values: dict[str, object] = {"level": level.value, "last_run_id": run_id}
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
    )
    return store.open_incident(model)
