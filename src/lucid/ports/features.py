"""The port of the stored features: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol


class FeatureRepository(Protocol):
    """Sources, feature definitions, their status and approvals."""
