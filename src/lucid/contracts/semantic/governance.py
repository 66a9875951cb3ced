"""Governance: a stored definition's status and approvals, and the rules of approving, serving
and training on it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from lucid.contracts.identities import normalise_identity, same_person
from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.versions import Duration
from lucid.errors import Conflict, Forbidden


class Status(Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DEPRECATED = "deprecated"
    LEGACY = "legacy"

    @property
    def active(self) -> bool:
        """Whether the definition still speaks for its concept (deprecated ones do not)."""
        return self is not Status.DEPRECATED


@dataclass(frozen=True, slots=True)
class Approval:
    team: str
    person: str


@dataclass(frozen=True, slots=True)
class Governed:
    """A stored definition with its governance state."""

    definition: FeatureDefinition
    status: Status
    proposed_by: str
    approvals: tuple[Approval, ...] = ()

    @property
    def missing_teams(self) -> tuple[str, ...]:
        done = {approval.team for approval in self.approvals}
        return tuple(t for t in self.definition.required_approvals if t not in done)

    @property
    def was_approved(self) -> bool:
        """Approved now, or approved before it was superseded or retired."""
        if self.status is Status.APPROVED:
            return True
        return (
            self.status is Status.DEPRECATED
            and bool(self.definition.required_approvals)
            and not self.missing_teams
        )


def check_servable(governed: Governed) -> None:
    """Only definitions that every required team approved are served to models online."""
    if not governed.was_approved:
        raise Forbidden(
            f"{governed.definition.ref} is {governed.status.value} and was never approved by "
            "every required team; online serving uses approved definitions only."
        )


def check_trainable(governed: Governed) -> None:
    """Training sets take approved definitions, and proposed ones for evaluation before
    approval; legacy team definitions are kept for the audit, never computed for models."""
    if governed.status is Status.LEGACY or (
        governed.status is Status.DEPRECATED and not governed.was_approved
    ):
        raise Forbidden(
            f"{governed.definition.ref} is a legacy definition that was never approved; "
            "training sets use approved (or proposed) definitions."
        )


def is_stale(data_time: float | None, ttl: Duration | None, now: float) -> bool:
    """Whether a value whose latest underlying event happened at epoch `data_time` (seconds;
    None for an empty window) is past `ttl` at epoch `now`: the data is older than the TTL, or
    nothing recent stands behind it. Without a TTL a value never is."""
    return ttl is not None and (data_time is None or now - data_time > ttl.seconds)


def check_approval(governed: Governed, team: str, person: str) -> bool:
    """Refuse an approval that breaks a rule; True when it completes the required approvals."""
    definition = governed.definition
    if governed.status is not Status.PROPOSED:
        raise Conflict(
            f"{definition.ref} is {governed.status.value}; only proposed definitions are approved."
        )
    person = normalise_identity(person, "approver")
    if same_person(person, governed.proposed_by):
        raise Forbidden(
            f"{person} proposed {definition.ref} and cannot approve it: nobody approves their "
            "own change."
        )
    if team not in definition.required_approvals:
        required = ", ".join(definition.required_approvals) or "none"
        raise Forbidden(
            f"team {team!r} is not among the teams that must approve {definition.ref} ({required})."
        )
    if any(approval.team == team for approval in governed.approvals):
        raise Conflict(f"team {team} has already approved {definition.ref}.")
    return set(governed.missing_teams) == {team}


def check_canonical(candidate: Governed, others: Iterable[Governed]) -> list[Governed]:
    """The definitions `candidate` supersedes when approved; refuse a second canonical one.

    An earlier approved version of the same feature is superseded (deprecated, history kept);
    an approved definition of the same concept under another name blocks the approval.
    """
    superseded = []
    for other in others:
        if other.status is not Status.APPROVED or other.definition.concept != (
            candidate.definition.concept
        ):
            continue
        if other.definition.name == candidate.definition.name:
            superseded.append(other)
            continue
        raise Conflict(
            f"concept {candidate.definition.concept} already has the approved definition "
            f"{other.definition.ref}; at most one definition per concept is canonical — "
            f"deprecate it or propose a new version of {other.definition.name}."
        )
    return superseded
