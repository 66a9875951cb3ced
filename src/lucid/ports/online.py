"""The port of the online store: the latest materialised value of each (feature, entity)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

StoredValue = tuple[Any, float, float | None]
"""A materialised value, the epoch time it was computed for (`as_of`) and its data time (the
epoch time of the latest event behind it, None for none), in seconds, UTC."""

Row = tuple[str, Any, float, float | None]
"""What is written: (entity, value, as_of, data time), times in epoch seconds, UTC."""

MATERIALISED = "__lucid_materialised__"
"""The pseudo-entity whose as_of records a feature's last materialisation: an entity absent
from the store then had no event, and is served the feature's empty value until the TTL."""


class OnlineStore(Protocol):
    """Latest values keyed by (feature reference `name@version`, entity id)."""

    reads_wait: bool
    """Whether a read waits on the network (Redis), where an event loop awaits `read_async`;
    a read of a local file (SQLite) answers at once, so a loop calls `read` itself."""

    def write(self, feature: str, rows: Iterable[Row]) -> int:
        """Store (entity, value, as_of, data time) rows for `feature`, each unless a value for
        a later `as_of` is stored already; returns how many were stored."""
        ...

    def read(
        self, entities: Sequence[str], features: Sequence[str]
    ) -> dict[tuple[str, str], StoredValue]:
        """The stored (value, as_of, data time) of each (entity, feature) pair that has one."""
        ...

    async def read_async(
        self, entities: Sequence[str], features: Sequence[str]
    ) -> dict[tuple[str, str], StoredValue]:
        """`read`, without holding up the event loop it is awaited on for a network wait."""
        ...

    def clear(self) -> None:
        """Remove every value (tests and drills only)."""
        ...

    def close(self) -> None: ...
