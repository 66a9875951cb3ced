"""The port of the stored deployments: what the use cases read and write in a unit of work."""

from __future__ import annotations

from typing import Protocol


class DeploymentRepository(Protocol):
    """Deployments as decisions, their checkpoints and lessons (the learning loop)."""
