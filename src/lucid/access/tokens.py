"""API tokens: created with a role (and teams for approvers), stored hashed, revoked for good.

A token reads `lucid_<id>_<secret>`; only the SHA-256 of the whole token is stored, so the
secret is shown once, at creation. Creating and revoking are events with their rationale.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lucid.contracts.access import Principal, Role, StoredToken
from lucid.contracts.access_events import TokenCreated, TokenRevoked
from lucid.contracts.events import NewEvent, Subject, format_time
from lucid.contracts.names import check_person
from lucid.errors import Conflict, Forbidden, InvalidInput, NotFound
from lucid.ports.unit_of_work import UnitsOfWork

_PREFIX = "lucid_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """Issue, list, revoke and authenticate API tokens."""

    def __init__(self, uows: UnitsOfWork, *, clock: Callable[[], datetime]) -> None:
        self._uows = uows
        self._clock = clock

    def create(
        self, *, person: str, role: str, teams: list[str], actor: str, rationale: str
    ) -> tuple[Principal, str]:
        """A new token for `person`; returns the principal and the secret (shown once)."""
        if not person.strip():
            raise InvalidInput("person", "must name who the token speaks for")
        check_person(person, "person")
        parsed = Role.parse(role)
        teams = sorted({team.strip() for team in teams if team.strip()})
        if parsed is Role.APPROVER and not teams:
            raise InvalidInput("teams", "an approver token names the teams it approves for")
        token_id = secrets.token_hex(8)
        token = f"{_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        stored = StoredToken(
            id=token_id,
            secret_sha256=_digest(token),
            person=person.strip(),
            role=parsed.value,
            teams=tuple(teams),
            created_at=format_time(self._clock()),
            created_by=actor,
        )
        with self._uows() as uow:
            uow.access.add_token(stored)
            uow.record(
                NewEvent.of(
                    TokenCreated(token_id, stored.person, parsed.value, teams),
                    actor=actor,
                    subject=Subject("token", token_id),
                    rationale=rationale,
                )
            )
        return stored.principal, token

    def revoke(self, token_id: str, *, actor: str, rationale: str) -> None:
        with self._uows() as uow:
            stored = uow.access.token(token_id)
            if stored is None:
                raise NotFound(f"Token {token_id} does not exist.")
            if stored.revoked_at is not None:
                raise Conflict(f"Token {token_id} is already revoked.")
            uow.access.revoke_token(token_id, format_time(self._clock()))
            uow.record(
                NewEvent.of(
                    TokenRevoked(token_id, stored.person),
                    actor=actor,
                    subject=Subject("token", token_id),
                    rationale=rationale,
                )
            )

    def list(self) -> list[dict[str, Any]]:
        with self._uows.read() as uow:
            stored = uow.access.tokens()
        return [
            {
                "id": token.id,
                "person": token.person,
                "role": token.role,
                "teams": list(token.teams),
                "created_at": token.created_at,
                "revoked_at": token.revoked_at,
            }
            for token in stored
        ]

    def authenticate(self, token: str | None) -> Principal:
        """The principal of a bearer token; refuse a missing, unknown or revoked one."""
        if not token:
            raise Unauthenticated(
                "Authorization: send `Bearer <token>`; create one with `lucid tokens create`."
            )
        with self._uows.read() as uow:
            stored = uow.access.token_by_digest(_digest(token))
        if stored is None:
            raise Unauthenticated("Authorization: the token is not known.")
        if stored.revoked_at is not None:
            raise Unauthenticated(
                f"Authorization: token {stored.id} was revoked at {stored.revoked_at}."
            )
        return stored.principal


class Unauthenticated(Forbidden):
    """No valid credentials came with the request (HTTP 401)."""
