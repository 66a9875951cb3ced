"""A/B experiments in the metadata database (tables `experiments`, `experiment_exposures`,
`experiment_outcomes`), on the connection of a unit of work."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from lucid.contracts.experiments.assignment import ARMS, CHALLENGER
from lucid.contracts.experiments.design import CONCLUDED, RUNNING, Design
from lucid.contracts.experiments.statistics import ArmCounts
from lucid.contracts.value import Evidence
from lucid.storage.tables import experiment_exposures, experiment_outcomes, experiments

_CHUNK = 500
"""Entities per `IN (...)` read."""
_BATCH = _CHUNK * 10
"""Rows per multi-row INSERT."""


class SqlExperimentRepository:
    """The stored experiments, read and written on one transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def get(self, experiment_id: str) -> tuple[Design, str] | None:
        row = self._conn.execute(
            select(experiments.c.design, experiments.c.status).where(
                experiments.c.id == experiment_id
            )
        ).first()
        if row is None:
            return None
        return Design.from_dict(json.loads(row[0])), str(row[1])

    def add(self, design: Design, *, created_at: str, created_by: str) -> None:
        self._conn.execute(
            insert(experiments).values(
                id=design.experiment_id,
                model=design.model,
                control_version=design.control_version,
                challenger_version=design.challenger_version,
                design=json.dumps(design.to_dict(), sort_keys=True),
                status=RUNNING,
                created_at=created_at,
                created_by=created_by,
            )
        )

    def conclude(
        self, experiment_id: str, *, concluded_at: str, decision: str, evidence: Evidence
    ) -> None:
        self._conn.execute(
            update(experiments)
            .where(experiments.c.id == experiment_id)
            .values(
                status=CONCLUDED,
                concluded_at=concluded_at,
                decision=decision,
                evidence=json.dumps(evidence.to_dict(), sort_keys=True),
            )
        )

    def running_for(self, model: str) -> str | None:
        found = self._conn.execute(
            select(experiments.c.id)
            .where(experiments.c.model == model, experiments.c.status == RUNNING)
            .order_by(experiments.c.created_at.desc())
            .limit(1)
        ).scalar()
        return None if found is None else str(found)

    def overview(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(select(experiments).order_by(experiments.c.created_at))
        return [
            {
                "id": r["id"],
                "model": r["model"],
                "control_version": r["control_version"],
                "challenger_version": r["challenger_version"],
                "status": r["status"],
                "decision": r["decision"],
                "created_at": r["created_at"],
            }
            for r in rows.mappings()
        ]

    def exposed_among(self, experiment_id: str, entities: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(entities), _CHUNK):
            chunk = entities[start : start + _CHUNK]
            found.update(
                self._conn.execute(
                    select(experiment_exposures.c.entity_id).where(
                        experiment_exposures.c.experiment_id == experiment_id,
                        experiment_exposures.c.entity_id.in_(chunk),
                    )
                ).scalars()
            )
        return found

    def add_exposures(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), _BATCH):
            self._conn.execute(insert(experiment_exposures), list(rows[start : start + _BATCH]))

    def outcomes_taken(self, experiment_id: str, entities: Sequence[str]) -> list[tuple[str, str]]:
        taken: list[tuple[str, str]] = []
        for start in range(0, len(entities), _CHUNK):
            chunk = entities[start : start + _CHUNK]
            taken.extend(
                (str(entity), str(metric))
                for entity, metric in self._conn.execute(
                    select(experiment_outcomes.c.entity_id, experiment_outcomes.c.metric).where(
                        experiment_outcomes.c.experiment_id == experiment_id,
                        experiment_outcomes.c.entity_id.in_(chunk),
                    )
                )
            )
        return taken

    def add_outcomes(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), _BATCH):
            self._conn.execute(insert(experiment_outcomes), list(rows[start : start + _BATCH]))

    def arm_counts(self, experiment_id: str, metric: str) -> dict[str, ArmCounts]:
        exposed: dict[str, int] = {
            str(arm): int(n)
            for arm, n in self._conn.execute(
                select(experiment_exposures.c.arm, func.count())
                .where(experiment_exposures.c.experiment_id == experiment_id)
                .group_by(experiment_exposures.c.arm)
            )
        }
        measured: dict[str, tuple[int, float]] = {
            str(arm): (int(n), float(s or 0))
            for arm, n, s in self._conn.execute(
                select(
                    experiment_exposures.c.arm,
                    func.count(),
                    func.sum(experiment_outcomes.c.value),
                )
                .select_from(_joined())
                .where(
                    experiment_outcomes.c.experiment_id == experiment_id,
                    experiment_outcomes.c.metric == metric,
                )
                .group_by(experiment_exposures.c.arm)
            )
        }
        counts: dict[str, ArmCounts] = {}
        for arm in ARMS:
            n, successes = measured.get(arm, (0, 0.0))
            counts[arm] = ArmCounts(exposed.get(arm, 0), n, round(successes))
        return counts

    def guardrail_means(self, experiment_id: str, metric: str) -> dict[str, float]:
        return {
            str(name): float(mean)
            for name, mean in self._conn.execute(
                select(experiment_outcomes.c.metric, func.avg(experiment_outcomes.c.value))
                .select_from(_joined())
                .where(
                    experiment_outcomes.c.experiment_id == experiment_id,
                    experiment_outcomes.c.metric != metric,
                    experiment_exposures.c.arm == CHALLENGER,
                )
                .group_by(experiment_outcomes.c.metric)
            )
        }


def _joined() -> Any:
    """Outcomes joined to the exposure (hence the arm) of the same entity."""
    return experiment_outcomes.join(
        experiment_exposures,
        (experiment_outcomes.c.experiment_id == experiment_exposures.c.experiment_id)
        & (experiment_outcomes.c.entity_id == experiment_exposures.c.entity_id),
    )
