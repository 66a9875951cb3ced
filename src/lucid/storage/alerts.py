"""Alerts, their delivery attempts and incidents in the metadata database.

`SqlAlertRepository` works on the connection of a unit of work: the use case writes a row and
records its event in the same transaction, so what is stored and the story of how it came to
be never disagree. `SqlAlertStore` reads them outside a unit of work.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lucid.contracts.validity.records import AlertRecord, IncidentRecord
from lucid.errors import NotFound
from lucid.storage.database import Database
from lucid.storage.id_prefix import stored_id
from lucid.storage.tables import alert_deliveries, monitoring_alerts, monitoring_incidents

_INCIDENT_FIELDS = (
    "id",
    "model",
    "status",
    "level",
    "opened_at",
    "window_start",
    "last_run_id",
    "recovered_at",
    "summary",
)


def _incident(row: Any) -> IncidentRecord:
    """Monitoring's view of a stored incident (the lifecycle is `lucid.storage.incidents`)."""
    return IncidentRecord(*(row[name] for name in _INCIDENT_FIELDS))


def _alert(row: Any) -> AlertRecord:
    return AlertRecord(**{**dict(row), "runbooks": json.loads(row["runbooks"])})


class SqlAlertRepository:
    """Alerts, delivery attempts and monitoring's incidents on one transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- alerts ------------------------------------------------------------------------------

    def add_alert(self, alert: AlertRecord) -> None:
        values = alert.to_dict()
        values["runbooks"] = json.dumps(alert.runbooks)
        self.connection.execute(insert(monitoring_alerts).values(**values))

    def alert_for(self, run_id: str, target: str) -> AlertRecord | None:
        """The alert a run raised for a team, if any."""
        row = (
            self.connection.execute(
                select(monitoring_alerts).where(
                    monitoring_alerts.c.run_id == run_id, monitoring_alerts.c.target == target
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _alert(row)

    def get_alert(self, alert_id: str) -> AlertRecord:
        """The alert of this id or id prefix (`stored_id`)."""
        found = stored_id(self.connection, monitoring_alerts.c.id, alert_id, "alert_id")
        row = (
            self.connection.execute(
                select(monitoring_alerts).where(monitoring_alerts.c.id == found)
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
        return [_alert(row) for row in self.connection.execute(query).mappings()]

    def acknowledge(self, alert_id: str, by: str, at: str) -> None:
        self.connection.execute(
            update(monitoring_alerts)
            .where(monitoring_alerts.c.id == alert_id)
            .values(acknowledged_at=at, acknowledged_by=by)
        )

    def step_up(self, alert_id: str, from_step: int, level: str, at: str) -> bool:
        """Move an unacknowledged alert from `from_step` one step up; False when another
        process moved or acknowledged it first (nothing is written then)."""
        changed = self.connection.execute(
            update(monitoring_alerts)
            .where(
                monitoring_alerts.c.id == alert_id,
                monitoring_alerts.c.step == from_step,
                monitoring_alerts.c.acknowledged_at.is_(None),
            )
            .values(step=from_step + 1, level=level, stepped_at=at)
        ).rowcount
        return bool(changed == 1)

    # -- deliveries --------------------------------------------------------------------------

    def attempts_made(self, alert_id: str, step: int) -> dict[str, tuple[int, bool]]:
        """Channel → (attempts recorded, delivered) for the alert at `step`."""
        rows = self.connection.execute(
            select(alert_deliveries.c.channel, alert_deliveries.c.delivered).where(
                alert_deliveries.c.alert_id == alert_id, alert_deliveries.c.step == step
            )
        ).all()
        made: dict[str, tuple[int, bool]] = {}
        for channel, delivered in rows:
            count, ok = made.get(channel, (0, False))
            made[channel] = (count + 1, ok or bool(delivered))
        return made

    def add_attempt(self, values: dict[str, Any]) -> None:
        """One delivery attempt: alert_id, channel, step, attempt, attempted_at, delivered,
        detail."""
        self.connection.execute(insert(alert_deliveries).values(**values))

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        rows = self.connection.execute(
            select(alert_deliveries)
            .where(alert_deliveries.c.alert_id == alert_id)
            .order_by(alert_deliveries.c.id)
        ).mappings()
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    # -- incidents ---------------------------------------------------------------------------

    def open_incident(self, model: str) -> IncidentRecord | None:
        """The model's incident not yet closed by the learning loop, if any."""
        row = (
            self.connection.execute(
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
        return [_incident(row) for row in self.connection.execute(query).mappings()]

    def add_incident(self, incident: IncidentRecord) -> None:
        self.connection.execute(insert(monitoring_incidents).values(**incident.to_dict()))

    def update_incident(self, incident_id: str, values: dict[str, Any]) -> bool:
        """Update an incident not closed yet; False when it was closed meanwhile (it is left
        as it is)."""
        changed = self.connection.execute(
            update(monitoring_incidents)
            .where(
                monitoring_incidents.c.id == incident_id,
                monitoring_incidents.c.status != "closed",
            )
            .values(**values)
        ).rowcount
        return bool(changed == 1)


class SqlAlertStore:
    """Reads of alerts and incidents, each in its own transaction (digests, listings)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def alerts(
        self, model: str | None = None, *, unacknowledged: bool = False
    ) -> list[AlertRecord]:
        with self.db.transaction() as connection:
            return SqlAlertRepository(connection).alerts(model, unacknowledged=unacknowledged)

    def incidents(self, model: str | None = None) -> list[IncidentRecord]:
        with self.db.transaction() as connection:
            return SqlAlertRepository(connection).incidents(model)
