"""Shadow comparisons in the metadata database (tables `shadow_comparisons`, `shadow_scores`),
on the connection of a unit of work; the pairs join the prediction and outcome logs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from lucid.contracts.experiments.design import CONCLUDED, RUNNING
from lucid.contracts.experiments.shadow import ShadowDesign
from lucid.contracts.value import Evidence
from lucid.ports.shadow import ShadowPairs
from lucid.storage.tables import outcome_log, prediction_log, shadow_comparisons, shadow_scores

_CHUNK = 500
"""Ids per `IN (...)` read."""
_BATCH = _CHUNK * 10
"""Rows per multi-row INSERT."""


class SqlShadowRepository:
    """The stored shadow comparisons, read and written on one transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def get(self, comparison_id: str) -> tuple[ShadowDesign, str] | None:
        row = self._conn.execute(
            select(shadow_comparisons.c.design, shadow_comparisons.c.status).where(
                shadow_comparisons.c.id == comparison_id
            )
        ).first()
        if row is None:
            return None
        return ShadowDesign.from_dict(json.loads(row[0])), str(row[1])

    def add(self, design: ShadowDesign, *, created_at: str, created_by: str) -> None:
        self._conn.execute(
            insert(shadow_comparisons).values(
                id=design.comparison_id,
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
        self, comparison_id: str, *, concluded_at: str, evidence: Sequence[Evidence]
    ) -> None:
        self._conn.execute(
            update(shadow_comparisons)
            .where(shadow_comparisons.c.id == comparison_id)
            .values(
                status=CONCLUDED,
                concluded_at=concluded_at,
                evidence=json.dumps([e.to_dict() for e in evidence], sort_keys=True),
            )
        )

    def running_for(self, model: str) -> str | None:
        found = self._conn.execute(
            select(shadow_comparisons.c.id)
            .where(shadow_comparisons.c.model == model, shadow_comparisons.c.status == RUNNING)
            .order_by(shadow_comparisons.c.created_at.desc())
            .limit(1)
        ).scalar()
        return None if found is None else str(found)

    def overview(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            select(
                shadow_comparisons.c.id,
                shadow_comparisons.c.model,
                shadow_comparisons.c.control_version,
                shadow_comparisons.c.challenger_version,
                shadow_comparisons.c.status,
                shadow_comparisons.c.created_at,
                shadow_comparisons.c.concluded_at,
            ).order_by(shadow_comparisons.c.created_at, shadow_comparisons.c.id)
        )
        return [dict(row) for row in rows.mappings()]

    def predictions_of(
        self, model: str, version: int | None, prediction_ids: Sequence[str]
    ) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(prediction_ids), _CHUNK):
            # By id alone, model and version compared here: given `model = ?` too, SQLite
            # walks the model's index, every prediction of the model.
            query = select(
                prediction_log.c.id, prediction_log.c.model, prediction_log.c.version
            ).where(prediction_log.c.id.in_(prediction_ids[start : start + _CHUNK]))
            found.update(
                str(i)
                for i, of, served in self._conn.execute(query)
                if of == model and (version is None or served == str(version))
            )
        return found

    def scored_among(self, comparison_id: str, prediction_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(prediction_ids), _CHUNK):
            found.update(
                str(i)
                for i in self._conn.execute(
                    select(shadow_scores.c.prediction_id).where(
                        shadow_scores.c.comparison_id == comparison_id,
                        shadow_scores.c.prediction_id.in_(prediction_ids[start : start + _CHUNK]),
                    )
                ).scalars()
            )
        return found

    def add_scores(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), _BATCH):
            self._conn.execute(insert(shadow_scores), list(rows[start : start + _BATCH]))

    def pairs(self, comparison_id: str) -> ShadowPairs:
        logged = self._conn.execute(
            select(func.count()).where(shadow_scores.c.comparison_id == comparison_id)
        ).scalar_one()
        rows = self._conn.execute(
            select(outcome_log.c.label, shadow_scores.c.score, prediction_log.c.score)
            .select_from(
                shadow_scores.join(
                    prediction_log, prediction_log.c.id == shadow_scores.c.prediction_id
                ).join(outcome_log, outcome_log.c.prediction_id == shadow_scores.c.prediction_id)
            )
            .where(shadow_scores.c.comparison_id == comparison_id)
            .order_by(shadow_scores.c.prediction_id)
        ).all()
        return ShadowPairs(
            logged=int(logged),
            labels=[int(r[0]) for r in rows],
            challenger=[float(r[1]) for r in rows],
            control=[float(r[2]) for r in rows],
        )
