"""The catalogue of every event type Lucid records.

Event types register when their module is imported (`@event_type`); this module imports every
one of them, so what reads, lists or rebuilds events asks here and never depends on which part
of Lucid a command happened to import.
"""

from lucid.contracts import (
    access_events,
    deployments,
    events,
    experiments,
    incidents,
    monitoring_events,
    registry_events,
    semantic,
    validity,
)
from lucid.contracts.events import DomainEvent, RecordedEvent

_MODULES = (
    access_events,
    deployments,
    experiments,
    incidents,
    monitoring_events,
    registry_events,
    semantic,
    validity,
)
"""The modules whose import registers their event types."""


def event_types() -> list[str]:
    """The name of every event type Lucid defines, sorted."""
    return events.registered_event_types()


def event_class(name: str) -> type[DomainEvent]:
    """The class of event type `name` (NotFound, listing the known types, otherwise)."""
    return events.event_class(name)


def typed(recorded: RecordedEvent) -> DomainEvent:
    """The typed domain event a stored record holds."""
    return event_class(recorded.type).from_payload(recorded.payload)
