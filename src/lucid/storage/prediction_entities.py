"""The entity join rule of outcomes read from both stores of the prediction log: for each
(entity, earliest, latest), the entity's latest prediction served in [earliest, latest],
found by one DuckDB ASOF join over the entity's rows and segment predictions (ties in
served-at time go to the largest id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from lucid.storage.prediction_segments import SERVED_TEXT, scan, wall
from lucid.storage.tables import prediction_log

_BATCH = 5_000
"""Entities per lookup of the rows (keeps parameter lists bounded)."""


def entity_rows(
    connection: Connection, model: str, entities: Sequence[str], low: str
) -> dict[str, list[Any]]:
    """The prediction rows of `model` served at or after `low` that may be to `entities`, as
    columns (`entity`, `served_at`, `id`): every such row of the model when it has no more
    rows than there are entities (one read, no entity list sent), else those of `entities`."""
    found: dict[str, list[Any]] = {"entity": [], "served_at": [], "id": []}
    query = select(prediction_log.c.entity, prediction_log.c.served_at, prediction_log.c.id).where(
        prediction_log.c.model == model, prediction_log.c.served_at >= low
    )
    held = connection.execute(
        select(func.count()).where(prediction_log.c.model == model)
    ).scalar_one()
    queries = (
        [query]
        if held <= len(entities)
        else [
            query.where(prediction_log.c.entity.in_(entities[start : start + _BATCH]))
            for start in range(0, len(entities), _BATCH)
        ]
    )
    for selected in queries:
        for entity, served_at, prediction_id in connection.execute(selected):
            found["entity"].append(entity)
            found["served_at"].append(served_at)
            found["id"].append(prediction_id)
    return found


def latest_served(
    wanted: Sequence[tuple[str, str, str]],
    rows: dict[str, list[Any]],
    files: Sequence[str],
    low: str,
) -> list[str | None]:
    """For each (entity, earliest, latest) of `wanted`, the id of the entity's latest
    prediction among `rows` (`entity_rows`) and segment `files` served in [earliest,
    latest], or None."""
    import duckdb
    import pyarrow as pa

    if not wanted:
        return []
    entity, earliest, latest = zip(*wanted, strict=True)
    with duckdb.connect() as connection:
        connection.register(
            "wanted",
            pa.table(
                {
                    "position": pa.array(range(len(wanted)), pa.int64()),
                    "entity": pa.array(entity, pa.string()),
                    "earliest": pa.array(earliest, pa.string()),
                    "latest": pa.array(latest, pa.string()),
                }
            ),
        )
        connection.register(
            "logged",
            pa.table(
                {name: pa.array(values, pa.string()) for name, values in rows.items()},
            ),
        )
        served = "SELECT entity, served_at, id FROM logged"
        if files:
            served += (
                f" UNION ALL SELECT s.entity, {SERVED_TEXT}, s.id FROM {scan(files)} s "
                "SEMI JOIN wanted w ON s.entity = w.entity "
                "WHERE s.served_at >= CAST($low AS TIMESTAMP)"
            )
        found = connection.execute(
            "SELECT CASE WHEN p.served_at >= w.earliest THEN p.id END FROM wanted w "
            "ASOF LEFT JOIN (SELECT entity, served_at, max(id) AS id FROM "
            f"({served}) GROUP BY entity, served_at) p "
            "ON w.entity = p.entity AND w.latest >= p.served_at ORDER BY w.position",
            {"low": wall(low)} if files else {},
        ).fetchall()
    return [row[0] for row in found]
