"""The port of the stored experiments: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol


class ExperimentRepository(Protocol):
    """A/B experiments, their assignments and exposures."""
