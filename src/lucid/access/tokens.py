"""API tokens: created with a role (and teams for approvers), stored hashed, revoked for good.

A token reads `lucid_<id>_<secret>`; only the SHA-256 of the whole token is stored, so the
secret is shown once, at creation. Creating and revoking are events with their rationale.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from lucid.contracts.access import Principal, Role
from lucid.contracts.access_events import TokenCreated, TokenRevoked
from lucid.contracts.events import NewEvent, Subject, format_time
from lucid.errors import Conflict, Forbidden, InvalidInput, NotFound
from lucid.storage.database import Database
from lucid.storage.event_log import EVENT_LOCK, SqlEventLog
from lucid.storage.tables import api_tokens

_PREFIX = "lucid_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """Issue, list, revoke and authenticate API tokens."""

    def __init__(self, db: Database, events: SqlEventLog) -> None:
        self._db = db
        self._events = events

    def create(
        self, *, person: str, role: str, teams: list[str], actor: str, rationale: str
    ) -> tuple[Principal, str]:
        """A new token for `person`; returns the principal and the secret (shown once)."""
        if not person.strip():
            raise InvalidInput("person", "must name who the token speaks for")
        parsed = Role.parse(role)
        teams = sorted({team.strip() for team in teams if team.strip()})
        if parsed is Role.APPROVER and not teams:
            raise InvalidInput("teams", "an approver token names the teams it approves for")
        token_id = secrets.token_hex(8)
        token = f"{_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            connection.execute(
                insert(api_tokens).values(
                    id=token_id,
                    secret_sha256=_digest(token),
                    person=person.strip(),
                    role=parsed.value,
                    teams=json.dumps(teams),
                    created_at=format_time(datetime.now(UTC)),
                    created_by=actor,
                    revoked_at=None,
                )
            )
            self._events.append(
                NewEvent.of(
                    TokenCreated(token_id, person.strip(), parsed.value, teams),
                    actor=actor,
                    subject=Subject("token", token_id),
                    rationale=rationale,
                ),
                connection=connection,
            )
        return Principal(token_id, person.strip(), parsed, tuple(teams)), token

    def revoke(self, token_id: str, *, actor: str, rationale: str) -> None:
        with self._db.locked_transaction(EVENT_LOCK) as connection:
            row = connection.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
            if row is None:
                raise NotFound(f"Token {token_id} does not exist.")
            if row.revoked_at is not None:
                raise Conflict(f"Token {token_id} is already revoked.")
            connection.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id)
                .values(revoked_at=format_time(datetime.now(UTC)))
            )
            self._events.append(
                NewEvent.of(
                    TokenRevoked(token_id, row.person),
                    actor=actor,
                    subject=Subject("token", token_id),
                    rationale=rationale,
                ),
                connection=connection,
            )

    def list(self) -> list[dict[str, Any]]:
        with self._db.transaction() as connection:
            rows = connection.execute(select(api_tokens).order_by(api_tokens.c.created_at)).all()
        return [
            {
                "id": row.id,
                "person": row.person,
                "role": row.role,
                "teams": json.loads(row.teams),
                "created_at": row.created_at,
                "revoked_at": row.revoked_at,
            }
            for row in rows
        ]

    def authenticate(self, token: str | None) -> Principal:
        """The principal of a bearer token; refuse a missing, unknown or revoked one."""
        if not token:
            raise Unauthenticated(
                "Authorization: send `Bearer <token>`; create one with `lucid tokens create`."
            )
        digest = _digest(token)
        with self._db.transaction() as connection:
            row = connection.execute(
                select(api_tokens).where(api_tokens.c.secret_sha256 == digest)
            ).first()
        if row is None:
            raise Unauthenticated("Authorization: the token is not known.")
        if row.revoked_at is not None:
            raise Unauthenticated(f"Authorization: token {row.id} was revoked at {row.revoked_at}.")
        return Principal(row.id, row.person, Role(row.role), tuple(json.loads(row.teams)))


class Unauthenticated(Forbidden):
    """No valid credentials came with the request (HTTP 401)."""
