"""A/B experiments in the metadata database (tables `experiments`, `experiment_exposures`,
`experiment_outcomes`), on the connection of a unit of work."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update

from lucid.contracts.experiments.assignment import ARMS, CHALLENGER
from lucid.contracts.experiments.design import CONCLUDED, RUNNING, Design
from lucid.contracts.experiments.statistics import ArmStats
from lucid.contracts.value import Evidence
from lucid.ports.experiments import Counts
from lucid.storage.id_prefix import stored_id
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

    def resolve(self, experiment_id: str) -> str | None:
        """The stored id this id or id prefix names (`stored_id`)."""
        return stored_id(self._conn, experiments.c.id, experiment_id, "experiment")

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

    def arm_stats(self, experiment_id: str, metric: str) -> dict[str, ArmStats]:
        exposures, outcomes = experiment_exposures, experiment_outcomes
        y, x = outcomes.c.value, exposures.c.covariate
        # One aggregate: every exposure, left-joined to its `metric` outcome.
        joined = exposures.outerjoin(
            outcomes,
            (outcomes.c.experiment_id == exposures.c.experiment_id)
            & (outcomes.c.entity_id == exposures.c.entity_id)
            & (outcomes.c.metric == metric),
        )
        with_x = y.is_not(None) & x.is_not(None)
        rows = self._conn.execute(
            select(
                exposures.c.arm,
                func.count(),
                func.count(y),
                func.coalesce(func.sum(y), 0.0),
                func.coalesce(func.sum(y * y), 0.0),
                func.coalesce(func.sum(case((with_x, 1), else_=0)), 0),
                func.coalesce(func.sum(case((with_x, x), else_=None)), 0.0),
                func.coalesce(func.sum(case((with_x, x * x), else_=None)), 0.0),
                func.coalesce(func.sum(case((with_x, x * y), else_=None)), 0.0),
            )
            .select_from(joined)
            .where(exposures.c.experiment_id == experiment_id)
            .group_by(exposures.c.arm)
        )
        found = {
            str(arm): ArmStats(
                int(exposed),
                int(measured),
                float(sy),
                float(syy),
                int(nx),
                float(sx),
                float(sxx),
                float(sxy),
            )
            for arm, exposed, measured, sy, syy, nx, sx, sxx, sxy in rows
        }
        return {arm: found.get(arm, ArmStats(0, 0, 0.0, 0.0)) for arm in ARMS}

    def daily_arm_stats(self, experiment_id: str, metric: str) -> list[tuple[str, str, Counts]]:
        exposures, outcomes = experiment_exposures, experiment_outcomes
        exposed_day = func.substr(exposures.c.exposed_at, 1, 10)
        daily: dict[tuple[str, str], Counts] = {}
        for arm, day, exposed in self._conn.execute(
            select(exposures.c.arm, exposed_day, func.count())
            .where(exposures.c.experiment_id == experiment_id)
            .group_by(exposures.c.arm, exposed_day)
        ):
            daily[(str(day), str(arm))] = (int(exposed), 0, 0.0, 0.0, 0, 0.0, 0.0, 0.0)
        # An outcome counts from the later of its observation and its entity's exposure.
        later = case(
            (outcomes.c.observed_at > exposures.c.exposed_at, outcomes.c.observed_at),
            else_=exposures.c.exposed_at,
        )
        measured_day = func.substr(later, 1, 10)
        y, x = outcomes.c.value, exposures.c.covariate
        with_x = x.is_not(None)
        for arm, day, measured, sy, syy, nx, sx, sxx, sxy in self._conn.execute(
            select(
                exposures.c.arm,
                measured_day,
                func.count(),
                func.sum(y),
                func.sum(y * y),
                func.coalesce(func.sum(case((with_x, 1), else_=0)), 0),
                func.coalesce(func.sum(case((with_x, x), else_=None)), 0.0),
                func.coalesce(func.sum(case((with_x, x * x), else_=None)), 0.0),
                func.coalesce(func.sum(case((with_x, x * y), else_=None)), 0.0),
            )
            .select_from(
                exposures.join(
                    outcomes,
                    (outcomes.c.experiment_id == exposures.c.experiment_id)
                    & (outcomes.c.entity_id == exposures.c.entity_id)
                    & (outcomes.c.metric == metric),
                )
            )
            .where(exposures.c.experiment_id == experiment_id)
            .group_by(exposures.c.arm, measured_day)
        ):
            exposed = daily.get((str(day), str(arm)), (0,))[0]
            daily[(str(day), str(arm))] = (
                exposed,
                int(measured),
                float(sy),
                float(syy),
                int(nx),
                float(sx),
                float(sxx),
                float(sxy),
            )
        return [(day, arm, counts) for (day, arm), counts in sorted(daily.items())]

    def guardrail_stats(self, experiment_id: str, metric: str) -> dict[str, ArmStats]:
        value = experiment_outcomes.c.value
        return {
            str(name): ArmStats(int(n), int(n), float(total or 0.0), float(squares or 0.0))
            for name, n, total, squares in self._conn.execute(
                select(
                    experiment_outcomes.c.metric,
                    func.count(),
                    func.sum(value),
                    func.sum(value * value),
                )
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
