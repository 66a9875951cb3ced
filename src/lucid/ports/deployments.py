"""The port of the stored deployments: what the use cases read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lucid.contracts.deployments import (
    Checkpoint,
    CheckpointVerdict,
    Hypothesis,
    SuccessCriterion,
)


class DeploymentRepository(Protocol):
    """Deployments as decisions, their checkpoints and lessons (the learning loop)."""

    def add(
        self,
        name: str,
        version: int,
        *,
        deployed_at: str,
        deployed_by: str,
        hypotheses: Sequence[Hypothesis],
        success_criteria: Sequence[SuccessCriterion],
        event_seq: int,
    ) -> int:
        """Store a deployment of `name@version`; its id."""
        ...

    def add_checkpoints(self, deployment_id: int, due: Sequence[tuple[int, str]]) -> None:
        """The deployment's checkpoints: (days after deployment, due time) each."""
        ...

    def set_event(self, deployment_id: int, event_seq: int) -> None:
        """The event that records the deployment."""
        ...

    def checkpoints(self, due_by: str | None = None) -> list[Checkpoint]:
        """Every checkpoint, or those due by `due_by` (UTC text), by due time then deployment."""
        ...

    def unjudged_criteria(self, deployment_id: int, days: int) -> list[SuccessCriterion] | None:
        """The success criteria a checkpoint judges; None once it was judged."""
        ...

    def set_verdict(
        self,
        deployment_id: int,
        days: int,
        *,
        evaluated_at: str,
        verdict: CheckpointVerdict,
        event_seq: int,
    ) -> None:
        """A checkpoint judged at `evaluated_at`, recorded by the event `event_seq`."""
        ...
