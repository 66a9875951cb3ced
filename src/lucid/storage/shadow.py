"""Shadow comparisons in the metadata database (tables `shadow_comparisons`, `shadow_scores`),
on the connection of a unit of work; the pairs join the prediction and outcome logs, rows and
segments alike.

Scores are read with the production prediction and outcome rows in one statement; only the
predictions and outcomes that statement did not find are looked up in the segments (DuckDB),
whose registry is read after it on the same connection. A seal registers a segment and
deletes its rows in one transaction, so a prediction or outcome not yet a row when the rows
were read is in a segment registered by then: none is missed, none is read twice (on
PostgreSQL too, where a unit of work's statements each see the latest commit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, insert, select, update

from lucid.contracts.experiments.design import CONCLUDED, RUNNING
from lucid.contracts.experiments.shadow import ShadowDesign
from lucid.contracts.value import Evidence
from lucid.ports.shadow import ShadowPairs
from lucid.ports.window_scan import parquet_scan
from lucid.storage.tables import (
    outcome_log,
    outcome_segments,
    prediction_log,
    prediction_segments,
    shadow_comparisons,
    shadow_scores,
)

if TYPE_CHECKING:
    import pyarrow as pa

_CHUNK = 500
"""Ids per `IN (...)` read."""
_BATCH = _CHUNK * 10
"""Rows per multi-row INSERT."""


class SqlShadowRepository:
    """The stored shadow comparisons, read and written on one transaction's connection; the
    prediction log's segments kept in `root` (rows only when None)."""

    def __init__(self, connection: Connection, root: Path | None = None) -> None:
        self._conn = connection
        self._root = root

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
        seen: set[str] = set()
        for start in range(0, len(prediction_ids), _CHUNK):
            # By id alone, model and version compared here: given `model = ?` too, SQLite
            # walks the model's index, every prediction of the model.
            query = select(
                prediction_log.c.id, prediction_log.c.model, prediction_log.c.version
            ).where(prediction_log.c.id.in_(prediction_ids[start : start + _CHUNK]))
            for i, of, served in self._conn.execute(query):
                seen.add(str(i))
                if of == model and (version is None or served == str(version)):
                    found.add(str(i))
        missing = [i for i in prediction_ids if i not in seen]
        files = self._files(prediction_segments, model) if missing else []
        if files:
            import duckdb
            import pyarrow as pa

            where = "" if version is None else "WHERE s.version = $version"
            with duckdb.connect() as duck:
                duck.register("wanted", pa.table({"id": pa.array(missing, pa.string())}))
                found.update(
                    str(i)
                    for (i,) in duck.execute(
                        f"SELECT s.id FROM {parquet_scan(files)} s "
                        f"SEMI JOIN wanted w ON s.id = w.id {where}",
                        {} if version is None else {"version": str(version)},
                    ).fetchall()
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
        # Ordered by the database, as the pairs always were (PostgreSQL's collation included).
        scored = self._conn.execute(
            select(
                shadow_scores.c.prediction_id,
                shadow_scores.c.score,
                prediction_log.c.score,
                outcome_log.c.label,
            )
            .select_from(
                shadow_scores.outerjoin(
                    prediction_log, prediction_log.c.id == shadow_scores.c.prediction_id
                ).outerjoin(
                    outcome_log, outcome_log.c.prediction_id == shadow_scores.c.prediction_id
                )
            )
            .where(shadow_scores.c.comparison_id == comparison_id)
            .order_by(shadow_scores.c.prediction_id)
        ).all()
        model = self._conn.execute(
            select(shadow_comparisons.c.model).where(shadow_comparisons.c.id == comparison_id)
        ).scalar()
        if model is not None and any(r[2] is None or r[3] is None for r in scored):
            return ShadowPairs(len(scored), *self._joined(scored, str(model)))
        return ShadowPairs(len(scored), *_complete(scored))

    def _joined(
        self, scored: Sequence[Any], model: str
    ) -> tuple[list[int], list[float], list[float]]:
        """The labels, challenger and control scores of `scored` (prediction id, challenger,
        control, label; in order), the controls and labels missing from the rows found in
        `model`'s segments, the pairs still missing one left out; in order."""
        predictions = (
            self._files(prediction_segments, model) if any(r[2] is None for r in scored) else []
        )
        outcomes = self._files(outcome_segments, model)
        if not predictions and not outcomes:
            return _complete(scored)
        control, label, joins = "s.control", "s.label", ""
        if predictions:
            control = "coalesce(s.control, p.score)"
            joins += (
                f" LEFT JOIN (SELECT f.id, f.score FROM {parquet_scan(predictions)} f SEMI JOIN "
                "(SELECT id FROM scored WHERE control IS NULL) w ON f.id = w.id) p ON p.id = s.id"
            )
        if outcomes:
            label = "coalesce(s.label, o.label)"
            joins += (
                f" LEFT JOIN (SELECT f.prediction_id AS id, f.label FROM {parquet_scan(outcomes)} "
                "f SEMI JOIN (SELECT id FROM scored WHERE label IS NULL) w "
                "ON f.prediction_id = w.id) o ON o.id = s.id"
            )
        import duckdb

        with duckdb.connect() as duck:
            duck.register("scored", _scored_table(scored))
            found = duck.sql(
                f"SELECT * FROM (SELECT s.position, CAST({label} AS BIGINT) AS label, "
                f"s.challenger, {control} AS control FROM scored s{joins}) "
                "WHERE control IS NOT NULL AND label IS NOT NULL ORDER BY position"
            ).to_arrow_table()
        return (
            found.column("label").to_pylist(),
            found.column("challenger").to_pylist(),
            found.column("control").to_pylist(),
        )

    def _files(self, registry: Table, model: str) -> list[str]:
        """The segment files of `model` registered in `registry` (absolute paths)."""
        if self._root is None:
            return []
        query = select(registry.c.path).where(registry.c.model == model).order_by(registry.c.id)
        return [str(self._root / path) for path in self._conn.execute(query).scalars()]


def _complete(scored: Sequence[Any]) -> tuple[list[int], list[float], list[float]]:
    """The labels, challenger and control scores of the rows of `scored` (prediction id,
    challenger, control, label) that have both a control and a label."""
    rows = [r for r in scored if r[2] is not None and r[3] is not None]
    return [int(r[3]) for r in rows], [float(r[1]) for r in rows], [float(r[2]) for r in rows]


def _scored_table(scored: Sequence[Any]) -> pa.Table:
    """The scored predictions as `position`, `id`, `challenger`, `control`, `label`."""
    import pyarrow as pa

    return pa.table(
        {
            "position": pa.array(range(len(scored)), pa.int64()),
            "id": pa.array([r[0] for r in scored], pa.string()),
            "challenger": pa.array([r[1] for r in scored], pa.float64()),
            "control": pa.array([r[2] for r in scored], pa.float64()),
            "label": pa.array([r[3] for r in scored], pa.int64()),
        }
    )
