"""The events of the semantic contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lucid.contracts.events import DomainEvent, event_type


@event_type("SourceRegistered")
@dataclass(frozen=True)
class SourceRegistered(DomainEvent):
    """An event source was registered after its schema was checked against its data."""

    name: str
    spec: dict[str, Any]


@event_type("FeatureProposed")
@dataclass(frozen=True)
class FeatureProposed(DomainEvent):
    """A new feature, or a new version of one, awaits the approval of the teams it names."""

    name: str
    version: str
    concept: str
    fingerprint: str
    required_approvals: list[str]
    previous: str | None
    bump: str | None
    changes: list[dict[str, Any]]
    spec: dict[str, Any]


@event_type("FeatureApprovalGiven")
@dataclass(frozen=True)
class FeatureApprovalGiven(DomainEvent):
    """One required team approved a proposed definition."""

    name: str
    version: str
    team: str
    person: str
    missing_teams: list[str]


@event_type("FeatureApproved")
@dataclass(frozen=True)
class FeatureApproved(DomainEvent):
    """Every required team approved: the definition is now its concept's canonical one."""

    name: str
    version: str
    concept: str
    fingerprint: str
    approvals: list[dict[str, str]]


@event_type("FeatureDeprecated")
@dataclass(frozen=True)
class FeatureDeprecated(DomainEvent):
    """A definition stopped speaking for its concept; its history is kept."""

    name: str
    version: str
    previous_status: str
    superseded_by: str | None


@event_type("LegacyFeatureImported")
@dataclass(frozen=True)
class LegacyFeatureImported(DomainEvent):
    """A team's existing definition, never approved, was imported to be audited."""

    name: str
    version: str
    concept: str
    owner: str
    fingerprint: str
    spec: dict[str, Any]
