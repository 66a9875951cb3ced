"""The events of access: API tokens issued and revoked, webhook subscriptions added."""

from __future__ import annotations

from dataclasses import dataclass

from lucid.contracts.events import DomainEvent, event_type


@event_type("TokenCreated")
@dataclass(frozen=True)
class TokenCreated(DomainEvent):
    """An API token was issued to a person with a role."""

    token_id: str
    person: str
    role: str
    teams: list[str]


@event_type("TokenRevoked")
@dataclass(frozen=True)
class TokenRevoked(DomainEvent):
    """An API token stopped working."""

    token_id: str
    person: str


@event_type("SubscriptionAdded")
@dataclass(frozen=True)
class SubscriptionAdded(DomainEvent):
    """Events of the given types will be POSTed to a URL."""

    subscription_id: str
    url: str
    event_types: list[str]
