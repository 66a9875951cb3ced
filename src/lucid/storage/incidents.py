"""Incidents of the learning loop in the metadata database (table `monitoring_incidents`), on
the connection of a unit of work.

Monitoring's own view of the same table (opening, recovery) is `lucid.storage.alerts`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lucid.contracts.incidents.incident import Incident, IncidentStatus, RepeatedOf, RootCause
from lucid.storage.id_prefix import stored_id
from lucid.storage.tables import monitoring_incidents

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
        status=IncidentStatus(row["status"]),
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


class SqlIncidentRepository:
    """The stored incidents, read and written on one transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def get(self, incident_id: str) -> Incident | None:
        """The incident of this id or id prefix (`stored_id`)."""
        found = stored_id(self._conn, _TABLE.c.id, incident_id, "incident_id")
        if found is None:
            return None
        row = self._conn.execute(select(_TABLE).where(_TABLE.c.id == found)).mappings().first()
        return None if row is None else self._read([row])[0]

    def find(
        self, model: str | None = None, status: IncidentStatus | None = None
    ) -> list[Incident]:
        query = select(_TABLE).order_by(_TABLE.c.opened_at, _TABLE.c.id)
        if model is not None:
            query = query.where(_TABLE.c.model == model)
        if status is not None:
            query = query.where(_TABLE.c.status == status.value)
        return self._read(list(self._conn.execute(query).mappings()))

    def not_closed(self, model: str) -> str | None:
        found = self._conn.execute(
            select(_TABLE.c.id).where(
                _TABLE.c.model == model, _TABLE.c.status != IncidentStatus.CLOSED.value
            )
        ).first()
        return None if found is None else str(found[0])

    def others(self, model: str, incident_id: str) -> list[Incident]:
        rows = self._conn.execute(
            select(_TABLE).where(_TABLE.c.model == model, _TABLE.c.id != incident_id)
        ).mappings()
        return self._read(list(rows))

    def add(self, incident: Incident) -> None:
        self._conn.execute(insert(_TABLE).values(**_values(incident)))

    def save(self, incident: Incident) -> None:
        values = _values(incident)
        del values["id"]
        self._conn.execute(update(_TABLE).where(_TABLE.c.id == incident.id).values(**values))

    def _read(self, rows: Sequence[Any]) -> list[Incident]:
        earlier = {row["repeated_of"] for row in rows if row["repeated_of"] is not None}
        lessons: dict[str, str | None] = {}
        if earlier:
            found = self._conn.execute(
                select(_TABLE.c.id, _TABLE.c.lesson).where(_TABLE.c.id.in_(earlier))
            )
            lessons = {ident: lesson for ident, lesson in found}
        return [_incident(row, lessons) for row in rows]
