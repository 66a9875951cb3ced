"""Alerts, their delivery attempts and incidents in the metadata database.

Every change writes its row and its event in one transaction under the event log's lock, so
what is stored and the story of how it came to be never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lucid.contracts.events import NewEvent
from lucid.errors import Conflict, NotFound
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import alert_deliveries, monitoring_alerts, monitoring_incidents


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert: `step` 0 warning, 1 critical, 2 escalated; times canonical UTC text."""

    id: str
    model: str
    run_id: str
    target: str
    level: str
    step: int
    summary: str
    runbooks: list[str]
    raised_at: str
    stepped_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "run_id": self.run_id,
            "target": self.target,
            "level": self.level,
            "step": self.step,
            "summary": self.summary,
            "runbooks": self.runbooks,
            "raised_at": self.raised_at,
            "stepped_at": self.stepped_at,
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: str
    model: str
    status: str
    level: str
    opened_at: str
    window_start: str
    last_run_id: str | None
    recovered_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "status": self.status,
            "level": self.level,
            "opened_at": self.opened_at,
            "window_start": self.window_start,
            "last_run_id": self.last_run_id,
            "recovered_at": self.recovered_at,
        }


_INCIDENT_FIELDS = (
    "id",
    "model",
    "status",
    "level",
    "opened_at",
    "window_start",
    "last_run_id",
    "recovered_at",
)


def _incident(row: Any) -> IncidentRecord:
    """Monitoring's view of a stored incident (the lifecycle is `lucid.storage.incidents`)."""
    return IncidentRecord(*(row[name] for name in _INCIDENT_FIELDS))


def _alert(row: Any) -> AlertRecord:
    return AlertRecord(**{**dict(row), "runbooks": json.loads(row["runbooks"])})


class SqlAlertStore:
    """Alerts, delivery attempts and incidents, each change with its event."""

    def __init__(self, db: Database, events: SqlEventLog) -> None:
        self.db = db
        self.events = events

    # -- alerts ------------------------------------------------------------------------------

    def raise_alert(self, alert: AlertRecord, event: NewEvent) -> AlertRecord:
        """Store the alert with its event; the alert already raised for the same run and
        team when there is one (a resumed run raises nothing twice)."""
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            raised = self._alert_for(connection, alert.run_id, alert.target)
            if raised is not None:
                return raised
            values = alert.to_dict()
            values["runbooks"] = json.dumps(alert.runbooks)
            connection.execute(insert(monitoring_alerts).values(**values))
            self.events.append(event, connection=connection)
        return alert

    def alert_for(self, run_id: str, target: str) -> AlertRecord | None:
        with self.db.transaction() as connection:
            return self._alert_for(connection, run_id, target)

    @staticmethod
    def _alert_for(connection: Connection, run_id: str, target: str) -> AlertRecord | None:
        row = (
            connection.execute(
                select(monitoring_alerts).where(
                    monitoring_alerts.c.run_id == run_id, monitoring_alerts.c.target == target
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _alert(row)

    def attempts_made(self, alert_id: str, step: int) -> dict[str, tuple[int, bool]]:
        """Channel → (attempts recorded, delivered) for the alert at `step`."""
        with self.db.transaction() as connection:
            rows = connection.execute(
                select(alert_deliveries.c.channel, alert_deliveries.c.delivered).where(
                    alert_deliveries.c.alert_id == alert_id, alert_deliveries.c.step == step
                )
            ).all()
        made: dict[str, tuple[int, bool]] = {}
        for channel, delivered in rows:
            count, ok = made.get(channel, (0, False))
            made[channel] = (count + 1, ok or bool(delivered))
        return made

    def record_attempt(self, values: dict[str, Any], event: NewEvent) -> None:
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            connection.execute(insert(alert_deliveries).values(**values))
            self.events.append(event, connection=connection)

    def get(self, alert_id: str) -> AlertRecord:
        with self.db.transaction() as connection:
            row = (
                connection.execute(
                    select(monitoring_alerts).where(monitoring_alerts.c.id == alert_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"No alert has the id {alert_id}.")
        return _alert(row)

    def alerts(
        self, model: str | None = None, *, unacknowledged: bool = False
    ) -> list[AlertRecord]:
        query = select(monitoring_alerts).order_by(monitoring_alerts.c.raised_at)
        if model is not None:
            query = query.where(monitoring_alerts.c.model == model)
        if unacknowledged:
            query = query.where(monitoring_alerts.c.acknowledged_at.is_(None))
        with self.db.transaction() as connection:
            return [_alert(row) for row in connection.execute(query).mappings()]

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        with self.db.transaction() as connection:
            rows = connection.execute(
                select(alert_deliveries)
                .where(alert_deliveries.c.alert_id == alert_id)
                .order_by(alert_deliveries.c.id)
            ).mappings()
            return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    def acknowledge(self, alert_id: str, by: str, at: str, event: NewEvent) -> None:
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            stored = connection.execute(
                select(monitoring_alerts.c.acknowledged_by).where(
                    monitoring_alerts.c.id == alert_id
                )
            ).first()
            if stored is None:
                raise NotFound(f"No alert has the id {alert_id}.")
            if stored[0] is not None:
                raise Conflict(f"Alert {alert_id} was already acknowledged by {stored[0]}.")
            connection.execute(
                update(monitoring_alerts)
                .where(monitoring_alerts.c.id == alert_id)
                .values(acknowledged_at=at, acknowledged_by=by)
            )
            self.events.append(event, connection=connection)

    def step_up(self, alert_id: str, from_step: int, level: str, at: str, event: NewEvent) -> bool:
        """Move an unacknowledged alert from `from_step` one step up; False when another
        process moved or acknowledged it first (nothing is written then)."""
        with self.db.locked_transaction(EVENT_LOCK) as connection:
            changed = connection.execute(
                update(monitoring_alerts)
                .where(
                    monitoring_alerts.c.id == alert_id,
                    monitoring_alerts.c.step == from_step,
                    monitoring_alerts.c.acknowledged_at.is_(None),
                )
                .values(step=from_step + 1, level=level, stepped_at=at)
            ).rowcount
            if changed != 1:
                return False
            self.events.append(event, connection=connection)
        return True

    # -- incidents ---------------------------------------------------------------------------

    def open_incident(
        self, model: str, connection: Connection | None = None
    ) -> IncidentRecord | None:
        """The model's incident not yet closed by the learning loop, if any."""
        if connection is None:
            with self.db.transaction() as conn:
                return self.open_incident(model, conn)
        row = (
            connection.execute(
                select(monitoring_incidents)
                .where(
                    monitoring_incidents.c.model == model,
                    monitoring_incidents.c.status != "closed",
                )
                .order_by(monitoring_incidents.c.opened_at.desc())
            )
            .mappings()
            .first()
        )
        return None if row is None else _incident(row)

    def incidents(self, model: str | None = None) -> list[IncidentRecord]:
        query = select(monitoring_incidents).order_by(monitoring_incidents.c.opened_at)
        if model is not None:
            query = query.where(monitoring_incidents.c.model == model)
        with self.db.transaction() as connection:
            return [_incident(row) for row in connection.execute(query).mappings()]

    def insert_incident(
        self, incident: IncidentRecord, event: NewEvent, connection: Connection
    ) -> None:
        """On a transaction holding the event log's lock."""
        connection.execute(insert(monitoring_incidents).values(**incident.to_dict()))
        self.events.append(event, connection=connection)

    def update_incident(
        self, incident_id: str, values: dict[str, Any], event: NewEvent, connection: Connection
    ) -> None:
        """Update an incident not closed yet (one closed meanwhile is left as it is), on a
        transaction holding the event log's lock."""
        changed = connection.execute(
            update(monitoring_incidents)
            .where(
                monitoring_incidents.c.id == incident_id,
                monitoring_incidents.c.status != "closed",
            )
            .values(**values)
        ).rowcount
        if changed == 1:
            self.events.append(event, connection=connection)
