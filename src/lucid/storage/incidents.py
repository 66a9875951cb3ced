"""Incidents of the learning loop in the metadata database (table `monitoring_incidents`).

Every change reads the incident, applies a pure transition of `lucid.contracts.incidents`
and writes the row and its event in one transaction under the event log's lock, so two
people acting on the same incident at once cannot both pass the same step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lucid.contracts.events import NewEvent
from lucid.contracts.incidents import Incident, RepeatedOf, RootCause, Status
from lucid.errors import Conflict, NotFound
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import monitoring_incidents

Transition = Callable[[Incident, Sequence[Incident]], tuple[Incident, NewEvent]]
"""(the incident, the model's other incidents) → (the changed incident, its event)."""

_TABLE = monitoring_incidents


def _values(incident: Incident) -> dict[str, Any]:
    """The row of an incident (lists as JSON text, the repeated link as the earlier id)."""
    values = incident.to_dict()
    values["participants"] = json.dumps(list(incident.participants))
    values["proposals"] = json.dumps(list(incident.proposals))
    repeated = incident.repeated_of
    values["repeated_of"] = None if repeated is None else repeated.incident_id
    return values


def _incident(row: Any, lessons: dict[str, str | None]) -> Incident:
    repeated = row["repeated_of"]
    return Incident(
        id=row["id"],
        model=row["model"],
        status=Status(row["status"]),
        level=row["level"],
        opened_at=row["opened_at"],
        window_start=row["window_start"],
        last_run_id=row["last_run_id"],
        recovered_at=row["recovered_at"],
        summary=row["summary"],
        opened_by=row["opened_by"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        root_cause=None if row["root_cause"] is None else RootCause(row["root_cause"]),
        diagnosis=row["diagnosis"],
        participants=tuple(json.loads(row["participants"] or "[]")),
        proposals=tuple(json.loads(row["proposals"] or "[]")),
        experiment_id=row["experiment_id"],
        resolution=row["resolution"],
        lesson=row["lesson"],
        closed_at=row["closed_at"],
        repeated_of=(
            None if repeated is None else RepeatedOf(repeated, lessons.get(repeated) or "")
        ),
    )


class SqlIncidentStore:
    """Incidents with their lifecycle, each change with its event."""

    def __init__(self, db: Database, events: SqlEventLog) -> None:
        self.db = db
        self.events = events

    def get(self, incident_id: str) -> Incident:
        with self.db.transaction() as conn:
            return self._get(conn, incident_id)

    def incidents(self, model: str | None = None, status: Status | None = None) -> list[Incident]:
        """Incidents, oldest first, of one model and/or in one status."""
        query = select(_TABLE).order_by(_TABLE.c.opened_at, _TABLE.c.id)
        if model is not None:
            query = query.where(_TABLE.c.model == model)
        if status is not None:
            query = query.where(_TABLE.c.status == status.value)
        with self.db.transaction() as conn:
            return self._read(conn, list(conn.execute(query).mappings()))

    def insert(self, incident: Incident, event: NewEvent) -> None:
        """Store a new incident; refused while its model has one not closed."""
        with self.db.locked_transaction(EVENT_LOCK) as conn:
            current = conn.execute(
                select(_TABLE.c.id).where(
                    _TABLE.c.model == incident.model, _TABLE.c.status != Status.CLOSED.value
                )
            ).first()
            if current is not None:
                raise Conflict(
                    f"Model {incident.model} already has incident {current[0]} not closed: "
                    "work on it rather than opening another."
                )
            conn.execute(insert(_TABLE).values(**_values(incident)))
            self.events.append(event, connection=conn)

    def change(self, incident_id: str, transition: Transition) -> Incident:
        """Apply `transition` to the stored incident and write the result with its event."""
        with self.db.locked_transaction(EVENT_LOCK) as conn:
            current = self._get(conn, incident_id)
            rows = conn.execute(
                select(_TABLE).where(_TABLE.c.model == current.model, _TABLE.c.id != incident_id)
            ).mappings()
            others = self._read(conn, list(rows))
            changed, event = transition(current, others)
            values = _values(changed)
            del values["id"]
            conn.execute(update(_TABLE).where(_TABLE.c.id == incident_id).values(**values))
            self.events.append(event, connection=conn)
        return changed

    def _get(self, conn: Connection, incident_id: str) -> Incident:
        row = conn.execute(select(_TABLE).where(_TABLE.c.id == incident_id)).mappings().first()
        if row is None:
            raise NotFound(f"No incident has the id {incident_id}.")
        return self._read(conn, [row])[0]

    def _read(self, conn: Connection, rows: Sequence[Any]) -> list[Incident]:
        earlier = {row["repeated_of"] for row in rows if row["repeated_of"] is not None}
        lessons: dict[str, str | None] = {}
        if earlier:
            found = conn.execute(
                select(_TABLE.c.id, _TABLE.c.lesson).where(_TABLE.c.id.in_(earlier))
            )
            lessons = {ident: lesson for ident, lesson in found}
        return [_incident(row, lessons) for row in rows]
