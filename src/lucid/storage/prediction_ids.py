"""Predictions of the log looked up by id: rows by id in the metadata database, and the ids
among many (a file of outcomes) found in both stores by one DuckDB semi join."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from lucid.storage.prediction_segments import scan
from lucid.storage.tables import prediction_log

if TYPE_CHECKING:
    import pyarrow as pa

_BATCH = 5_000
"""Ids per lookup (keeps parameter lists bounded)."""


def rows_by_id(
    connection: Connection, model: str, wanted: Sequence[str], *, served: bool = False
) -> Iterator[Any]:
    """The ids among `wanted` of prediction rows of `model` (with `served`, (id,
    served_at) pairs)."""
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        # Looked up by id alone, the model compared here: given `model = ?` too,
        # SQLite walks the model's index, every prediction of the model.
        query = select(
            prediction_log.c.id, prediction_log.c.served_at, prediction_log.c.model
        ).where(prediction_log.c.id.in_(chunk))
        for i, served_at, of in connection.execute(query):
            if of == model:
                yield (i, served_at) if served else i


def row_ids_among(connection: Connection, model: str, ids: pa.Array) -> list[str]:
    """The ids of prediction rows of `model` that may be among `ids`: every row of the model
    when it has no more rows than `ids` (one read, no id list sent), else the rows of `ids`
    looked up by id."""
    held = connection.execute(
        select(func.count()).where(prediction_log.c.model == model)
    ).scalar_one()
    if held <= len(ids):
        query = select(prediction_log.c.id).where(prediction_log.c.model == model)
        return [str(i) for i in connection.execute(query).scalars()]
    return [str(i) for i in rows_by_id(connection, model, ids.to_pylist())]


def ids_among(ids: pa.Array, logged: Sequence[str], files: Sequence[str]) -> pa.Array:
    """The ids among `ids` that are in `logged` or in the segment `files`."""
    import duckdb
    import pyarrow as pa

    source = "SELECT id FROM logged"
    if files:
        source += f" UNION ALL SELECT s.id FROM {scan(files)} s"
    with duckdb.connect() as connection:
        connection.register("logged", pa.table({"id": pa.array(logged, pa.string())}))
        connection.register("wanted", pa.table({"id": ids}))
        found = connection.sql(
            f"SELECT w.id FROM wanted w SEMI JOIN ({source}) p ON p.id = w.id"
        ).to_arrow_table()
    return found.column("id").combine_chunks()
