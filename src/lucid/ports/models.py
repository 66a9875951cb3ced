"""The port of the stored models: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol


class ModelRepository(Protocol):
    """Model versions, their stages, contracts, evidence and freezes."""
