"""Who may do what: roles, the principal behind a request, and the checks on them.

Roles are ordered: a viewer reads; a scientist also proposes, registers and experiments; an
approver also approves for their teams and overrides the promotion gate; an admin does all.
Four-eyes rules (nobody approves their own change) stay in the contract that owns the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lucid.errors import Forbidden, InvalidInput


class Role(Enum):
    VIEWER = "viewer"
    SCIENTIST = "scientist"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

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
