"""The catalogue of every event type Lucid records: importing this module registers them all.

`lucid.contracts.events` loads it on the first lookup of an event type, so reading, listing or
validating events never depends on which part of Lucid a command happened to import.
"""

from lucid.contracts import (  # noqa: F401  (imported for their @event_type registrations)
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
