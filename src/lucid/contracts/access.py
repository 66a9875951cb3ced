"""Who may do what: roles, the principal behind a request, and the checks on them.

The people's roles are ordered: a viewer reads; a scientist also proposes, registers,
experiments and logs what is served; an approver also approves for their teams and
overrides the promotion gate; an admin does all. A service (an application calling the API)
stands beside that ladder, not on it: it reads and logs predictions, served values and
outcomes, and ranks as a viewer for everything else. Four-eyes rules (nobody approves their
own change) stay in the contract that owns the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from lucid.contracts.events import parse_time
from lucid.contracts.identities import normalise_identity
from lucid.errors import Forbidden, InvalidInput


class Role(Enum):
    VIEWER = "viewer"
    SCIENTIST = "scientist"
    APPROVER = "approver"
    ADMIN = "admin"
    SERVICE = "service"

    @property
    def rank(self) -> int:
        """The place on the people's ladder (viewer 0 … admin 3); a service ranks as a viewer."""
        return 0 if self is Role.SERVICE else list(Role).index(self)

    @property
    def logs(self) -> bool:
        """May log what is served: predictions, served feature values, outcomes."""
        return self is Role.SERVICE or self.rank >= Role.SCIENTIST.rank

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(role.value for role in cls)
            raise InvalidInput("role", f"{value!r} must be one of {known}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """The person a token speaks for, with their role and the teams they approve for."""

    token_id: str
    person: str
    role: Role
    teams: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "person", normalise_identity(self.person, "person"))

    def require(self, role: Role, *, team: str | None = None, action: str) -> None:
        """Refuse unless this principal holds `role` (and, for approvals, speaks for `team`)."""
        if self.role.rank < role.rank:
            raise Forbidden(
                f"{self.person} is a {self.role.value}; {action} needs the {role.value} role."
            )
        if team is not None and self.role is not Role.ADMIN and team not in self.teams:
            listed = ", ".join(self.teams) or "none"
            raise Forbidden(
                f"{self.person} approves for {listed}, not for team {team}; {action} is refused."
            )

    def require_logging(self, *, action: str) -> None:
        """Refuse unless this principal may log what is served (scientist and above, or a
        service)."""
        if not self.role.logs:
            raise Forbidden(
                f"{self.person} is a {self.role.value}; {action} needs the scientist or "
                "service role."
            )


def transparency_pct(stakeholders: Iterable[str], holders: Iterable[Principal]) -> float | None:
    """Percent of the named stakeholders who hold at least viewer access; None when nobody is
    named. A stakeholder is covered when a holder's person is that name, or when a holder
    approves for it (a team); names compare in their normal form
    (`lucid.contracts.identities`), and a name with no normal form names nobody. Every role
    reads, so any holder of a live token has viewer access."""
    named = {key for key in map(_identity_key, stakeholders) if key}
    if not named:
        return None
    covered: set[str] = set()
    for holder in holders:
        covered.update(filter(None, map(_identity_key, (holder.person, *holder.teams))))
    return 100.0 * len(named & covered) / len(named)


def _identity_key(name: str) -> str | None:
    try:
        return normalise_identity(name, "stakeholders")
    except InvalidInput:
        return None


@dataclass(frozen=True, slots=True)
class StoredToken:
    """An API token as stored: the SHA-256 of the whole token, never the token itself; times
    in canonical UTC text."""

    id: str
    secret_sha256: str
    person: str
    role: str
    teams: tuple[str, ...]
    created_at: str
    created_by: str
    revoked_at: str | None = None

    @property
    def principal(self) -> Principal:
        return Principal(self.id, self.person, Role(self.role), self.teams)


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A signed-in dashboard session as stored: the SHA-256 of its id, never the id; the
    token it speaks for; times in canonical UTC text (`expires_at` is the absolute end)."""

    id_sha256: str
    token_id: str
    person: str
    role: str
    created_at: str
    last_seen_at: str
    expires_at: str
    revoked_at: str | None = None


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: `idle` without a request, `lifetime` after sign-in."""

    idle: timedelta
    lifetime: timedelta

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.lifetime <= timedelta(0):
            raise InvalidInput("session", "idle and lifetime must be positive durations")

    def ended(self, session: StoredSession, token: StoredToken | None, now: datetime) -> str | None:
        """Why `session` no longer works at `now` (a sentence), or None while it does: its
        token revoked or gone, signed out, past its lifetime, or idle too long."""
        if token is None or token.revoked_at is not None:
            return f"its token {session.token_id} was revoked"
        if session.revoked_at is not None:
            return f"the session was signed out at {session.revoked_at}"
        if now >= parse_time(session.expires_at):
            return f"the session expired at {session.expires_at}"
        if now >= parse_time(session.last_seen_at) + self.idle:
            return f"the session was idle for more than {_hours(self.idle)}"
        return None

    def refresh_due(self, session: StoredSession, now: datetime) -> bool:
        """Whether to store `now` as the session's last request: at most once a minute (or a
        tenth of the idle time when shorter), so reading pages seldom writes."""
        step = min(timedelta(minutes=1), self.idle / 10)
        return now - parse_time(session.last_seen_at) >= step


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook subscription: where to POST which event types (empty: all), signed with the
    shared secret; `cursor` is the position of the last event delivered."""

    id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    cursor: int
    created_by: str
    created_at: str


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One attempt to deliver an event to a subscription: the HTTP status when one came back,
    the error when it was not delivered."""

    subscription_id: str
    event_seq: int
    attempt: int
    delivered: bool
    http_status: int | None
    error: str | None
    attempted_at: str
