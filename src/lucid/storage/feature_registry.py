"""Sources, feature definitions and approvals in the metadata database.

Every function takes the connection of the caller's transaction, so that a use case reads the
state, decides, writes and appends its events under one lock and one commit.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lucid.contracts.semantic import (
    Approval,
    FeatureDefinition,
    FeatureRef,
    Governed,
    Source,
    Status,
)
from lucid.storage.tables import feature_approvals, feature_definitions, feature_sources


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def load_sources(connection: Connection) -> dict[str, Source]:
    rows = connection.execute(select(feature_sources.c.spec)).scalars()
    sources = (Source.from_dict(json.loads(spec)) for spec in rows)
    return {source.name: source for source in sources}


def insert_source(connection: Connection, source: Source, *, actor: str, at: str) -> None:
    connection.execute(
        insert(feature_sources).values(
            name=source.name, spec=_json(source.to_dict()), registered_by=actor, registered_at=at
        )
    )


def load_governed(
    connection: Connection, *, name: str | None = None, concept: str | None = None
) -> list[Governed]:
    """Stored definitions with their status and approvals, by name then version."""
    query = select(
        feature_definitions.c.name,
        feature_definitions.c.version,
        feature_definitions.c.spec,
        feature_definitions.c.status,
        feature_definitions.c.proposed_by,
    ).order_by(
        feature_definitions.c.name,
        feature_definitions.c.major,
        feature_definitions.c.minor,
        feature_definitions.c.patch,
    )
    if name is not None:
        query = query.where(feature_definitions.c.name == name)
    if concept is not None:
        query = query.where(feature_definitions.c.concept == concept)
    approvals: dict[tuple[str, str], list[Approval]] = {}
    approval_query = select(
        feature_approvals.c.name,
        feature_approvals.c.version,
        feature_approvals.c.team,
        feature_approvals.c.person,
    ).order_by(feature_approvals.c.approved_at)
    if name is not None:
        approval_query = approval_query.where(feature_approvals.c.name == name)
    for row in connection.execute(approval_query):
        approvals.setdefault((row.name, row.version), []).append(Approval(row.team, row.person))
    return [
        Governed(
            FeatureDefinition.from_dict(json.loads(row.spec)),
            Status(row.status),
            row.proposed_by,
            tuple(approvals.get((row.name, row.version), ())),
        )
        for row in connection.execute(query)
    ]


def find_governed(connection: Connection, ref: FeatureRef) -> Governed | None:
    for governed in load_governed(connection, name=ref.name):
        if governed.definition.version == ref.version:
            return governed
    return None


def insert_definition(
    connection: Connection,
    definition: FeatureDefinition,
    *,
    status: Status,
    origin: str,
    actor: str,
    at: str,
) -> None:
    connection.execute(
        insert(feature_definitions).values(
            name=definition.name,
            version=str(definition.version),
            major=definition.version.major,
            minor=definition.version.minor,
            patch=definition.version.patch,
            concept=definition.concept,
            status=status.value,
            origin=origin,
            spec=_json(definition.to_dict()),
            fingerprint=definition.fingerprint,
            proposed_by=actor,
            proposed_at=at,
            status_changed_at=at,
        )
    )


def set_status(connection: Connection, ref: FeatureRef, status: Status, *, at: str) -> None:
    connection.execute(
        update(feature_definitions)
        .where(feature_definitions.c.name == ref.name)
        .where(feature_definitions.c.version == str(ref.version))
        .values(status=status.value, status_changed_at=at)
    )


def insert_approval(
    connection: Connection, ref: FeatureRef, approval: Approval, *, rationale: str, at: str
) -> None:
    connection.execute(
        insert(feature_approvals).values(
            name=ref.name,
            version=str(ref.version),
            team=approval.team,
            person=approval.person,
            approved_at=at,
            rationale=rationale,
        )
    )
