"""The port of the feature store as the model registry asks it (the semantic contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class FeatureCatalog(Protocol):
    """What the registry asks of the feature store."""

    def check_pins(self, pins: Sequence[str]) -> list[str]:
        """The pins in canonical form; refuse a pin that is not an approved stored version."""
        ...

    def skew(self, pins: Sequence[str]) -> dict[str, float]:
        """The measured training-serving mismatch rate of each pinned feature ever served."""
        ...

    def online_rows(self, entity_ids: Sequence[str], pins: Sequence[str]) -> list[dict[str, Any]]:
        """Each entity's fresh served values by pin; refuse missing or stale ones."""
        ...
