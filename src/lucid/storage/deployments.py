"""The stored deployments on SQLAlchemy (`lucid.ports.deployments.DeploymentRepository`):
deployments as decisions and their checkpoints."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, insert, select, update

from lucid.contracts.deployments import (
    Checkpoint,
    CheckpointVerdict,
    Hypothesis,
    SuccessCriterion,
)
from lucid.storage.tables import deployment_checkpoints, deployments


class SqlDeploymentRepository:
    """Deployments and their checkpoints on one transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

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
        return int(
            self._conn.execute(
                insert(deployments)
                .values(
                    model=name,
                    version=version,
                    deployed_at=deployed_at,
                    deployed_by=deployed_by,
                    hypotheses=json.dumps([h.to_dict() for h in hypotheses]),
                    success_criteria=json.dumps([c.to_dict() for c in success_criteria]),
                    event_seq=event_seq,
                )
                .returning(deployments.c.id)
            ).scalar_one()
        )

    def add_checkpoints(self, deployment_id: int, due: Sequence[tuple[int, str]]) -> None:
        self._conn.execute(
            insert(deployment_checkpoints),
            [{"deployment_id": deployment_id, "days": day, "due_at": when} for day, when in due],
        )

    def set_event(self, deployment_id: int, event_seq: int) -> None:
        self._conn.execute(
            update(deployments).where(deployments.c.id == deployment_id).values(event_seq=event_seq)
        )

    def checkpoints(self, due_by: str | None = None) -> list[Checkpoint]:
        query = select(
            deployment_checkpoints, deployments.c.model, deployments.c.version
        ).select_from(deployment_checkpoints.join(deployments))
        if due_by is not None:
            query = query.where(deployment_checkpoints.c.due_at <= due_by)
        rows = self._conn.execute(
            query.order_by(deployment_checkpoints.c.due_at, deployments.c.id)
        ).mappings()
        return [_checkpoint(row) for row in rows]

    def unjudged_criteria(self, deployment_id: int, days: int) -> list[SuccessCriterion] | None:
        row = self._conn.execute(
            select(deployment_checkpoints.c.evaluated_at, deployments.c.success_criteria)
            .select_from(deployment_checkpoints.join(deployments))
            .where(
                deployment_checkpoints.c.deployment_id == deployment_id,
                deployment_checkpoints.c.days == days,
            )
        ).one()
        if row[0] is not None:
            return None
        return [SuccessCriterion.from_mapping(c) for c in json.loads(row[1])]

    def set_verdict(
        self,
        deployment_id: int,
        days: int,
        *,
        evaluated_at: str,
        verdict: CheckpointVerdict,
        event_seq: int,
    ) -> None:
        self._conn.execute(
            update(deployment_checkpoints)
            .where(
                deployment_checkpoints.c.deployment_id == deployment_id,
                deployment_checkpoints.c.days == days,
            )
            .values(
                evaluated_at=evaluated_at,
                outcome=verdict.outcome.value,
                verdict=json.dumps(verdict.to_dict(), sort_keys=True),
                event_seq=event_seq,
            )
        )


def _checkpoint(row: RowMapping) -> Checkpoint:
    return Checkpoint(
        int(row["deployment_id"]),
        str(row["model"]),
        int(row["version"]),
        int(row["days"]),
        str(row["due_at"]),
        row["evaluated_at"],
        row["outcome"],
        json.loads(row["verdict"]) if row["verdict"] else None,
    )
