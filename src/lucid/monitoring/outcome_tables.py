"""Logging a file of outcomes as columns: the join rule and the one-outcome rule of
`lucid.monitoring.predictions.log_outcomes`, applied to Arrow columns and DuckDB joins
rather than row by row, and the new outcomes stored as one segment.

A file whose columns are of the plain kinds (`prediction_id` text, `entity` text or
integer, `label` integer, boolean or 0.0/1.0, `observed_at` a timestamp or date, nothing
else) and whose values pass the rules is logged here; any other file, and any refusal,
goes to the row path (`None`), which names the first bad field as it always has.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lucid.contracts.events import format_time, parse_time
from lucid.contracts.times import utc_text
from lucid.contracts.value import validate_model_name
from lucid.errors import InvalidInput
from lucid.ports.monitoring import PredictionLog

if TYPE_CHECKING:
    import pyarrow as pa

    from lucid.monitoring.predictions import OutcomeReport

_FIELDS = {"prediction_id", "entity", "label", "observed_at"}
_TEXT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""DuckDB's canonical UTC text of a timestamp (microseconds)."""


def log_outcome_table(
    log: PredictionLog, model: str, table: pa.Table, *, horizon: timedelta, now: datetime
) -> OutcomeReport | None:
    """Join the outcomes of `table` to their predictions and store the new ones; None when
    the table is for the row path (a refusal included: it says why)."""
    from lucid.monitoring.predictions import OutcomeReport

    validate_model_name(model)
    if horizon <= timedelta(0):
        raise InvalidInput("horizon", f"must be a positive duration, not {horizon}")
    given = _columns(table)
    if given is None:
        return None
    matched = _matched(log, model, given, horizon)
    unmatched = matched.null_count
    chosen = _chosen(given, matched)
    if chosen is None:  # two rows give one prediction different labels
        return None
    logged_at = utc_text(now, "now")
    with log.outcome_lock():
        new = _new(log, model, chosen, logged_at)
        if new is not None and new.num_rows:
            log.append_outcomes(model, new)
    if new is None:  # a different outcome is logged already
        return None
    import pyarrow.compute as pc

    positions = pc.indices_nonzero(pc.is_null(matched)).to_pylist() if unmatched else []
    return OutcomeReport(new.num_rows, chosen.num_rows - new.num_rows, tuple(positions))


def _columns(table: pa.Table) -> pa.Table | None:
    """`prediction_id`, `entity` (None where an id is given), `label` (int64) and
    `observed_at` (canonical UTC text) of every row, or None when a column's kind or a
    value is not plainly valid."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = set(table.column_names)
    if not table.num_rows or names - _FIELDS or not {"label", "observed_at"} <= names:
        return None
    rows = table.num_rows
    ids = table.column("prediction_id") if "prediction_id" in names else pa.nulls(rows, pa.string())
    if not (pa.types.is_string(ids.type) or pa.types.is_null(ids.type)):
        return None
    ids = pc.cast(ids, pa.string())
    if pc.any(pc.equal(ids, "")).as_py():
        return None
    entities = table.column("entity") if "entity" in names else pa.nulls(rows, pa.string())
    kind = entities.type
    if not (pa.types.is_string(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
        return None
    entities = pc.utf8_trim_whitespace(pc.cast(entities, pa.string()))
    by_entity = pc.is_null(ids)
    if pc.any(pc.and_(by_entity, pc.fill_null(pc.equal(entities, ""), True))).as_py():
        return None
    entities = pc.if_else(by_entity, entities, pa.scalar(None, pa.string()))
    labels = _labels(table.column("label"))
    observed = _times(table.column("observed_at"))
    if labels is None or observed is None:
        return None
    return pa.table(
        {
            "position": pa.array(range(rows), pa.int64()),
            "prediction_id": ids,
            "entity": entities,
            "label": labels,
            "observed_at": observed,
        }
    )


def _labels(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The labels as int64 when each is 0 or 1 (booleans and 0.0/1.0 counted), else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_floating(kind)):
        return None
    if column.null_count:
        return None
    numbers = pc.cast(column, pa.float64())
    if not pc.all(pc.is_in(numbers, pa.array([0.0, 1.0]))).as_py():
        return None
    return pc.cast(column, pa.int64())


def _times(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Timestamps (naive read as UTC) or dates as canonical UTC text, else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if column.null_count:
        return None
    if pa.types.is_date(kind):
        column = pc.cast(column, pa.timestamp("us"))
    elif not pa.types.is_timestamp(kind) or kind.unit == "ns":
        return None
    # A naive time is read as UTC; a zoned one is an instant already. DuckDB writes the text
    # (Arrow's strftime took 15 times as long for 1 M times).
    import duckdb

    walls = pc.cast(pc.cast(column, pa.timestamp("us", "UTC")), pa.timestamp("us"))
    with duckdb.connect() as connection:
        connection.register("times", pa.table({"moment": walls}))
        text: pa.Table = connection.sql(
            f"SELECT strftime(moment, '{_TEXT}') FROM times"
        ).to_arrow_table()
    return text.column(0)


def _matched(log: PredictionLog, model: str, given: pa.Table, horizon: timedelta) -> pa.Array:
    """Each row's prediction id by the join rule, null when unmatched."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = given.column("prediction_id").combine_chunks()
    named = pc.unique(ids.drop_null())
    found = log.predictions_among(model, named) if len(named) else pa.array([], pa.string())
    by_id = pc.if_else(pc.is_in(ids, found), ids, pa.scalar(None, pa.string()))
    by_entity = pc.is_null(ids)
    if not pc.any(by_entity).as_py():
        return by_id
    positions = pc.indices_nonzero(by_entity)
    entities = pc.take(given.column("entity"), positions).to_pylist()
    latest = pc.take(given.column("observed_at"), positions).to_pylist()
    wanted = [
        (entity, format_time(parse_time(moment) - horizon), moment)
        for entity, moment in zip(entities, latest, strict=True)
    ]
    filled = by_id.to_pylist()
    for position, prediction_id in zip(
        positions.to_pylist(), log.latest_before(model, wanted), strict=True
    ):
        filled[position] = prediction_id
    return pa.array(filled, pa.string())


def _chosen(given: pa.Table, matched: pa.Array) -> pa.Table | None:
    """Per matched prediction: its outcome's `label` and `observed_at` (the last row's);
    None when two rows give one prediction different labels."""
    import duckdb

    rows = given.select(["position", "label", "observed_at"]).append_column(
        "prediction_id", matched
    )
    with duckdb.connect() as connection:
        connection.register("given", rows)
        chosen = connection.sql(
            "SELECT prediction_id, arg_max(label, position) AS label, "
            "arg_max(observed_at, position) AS observed_at, min(label) <> max(label) AS torn "
            "FROM given WHERE prediction_id IS NOT NULL GROUP BY prediction_id "
            "ORDER BY min(position)"
        ).to_arrow_table()
    import pyarrow.compute as pc

    if chosen.num_rows and pc.any(chosen.column("torn")).as_py():
        return None
    return chosen.drop_columns(["torn"])


def _new(log: PredictionLog, model: str, chosen: pa.Table, logged_at: str) -> pa.Table | None:
    """The chosen outcomes not logged yet, in a segment's columns; None when one of them has
    a different outcome logged already."""
    import duckdb
    import pyarrow as pa

    stored = log.outcomes_among(model, chosen.column("prediction_id").combine_chunks())
    with duckdb.connect() as connection:
        connection.register("chosen", chosen)
        connection.register("stored", stored)
        [(differ,)] = connection.execute(
            "SELECT count(*) FROM chosen c JOIN stored s ON s.prediction_id = c.prediction_id "
            "WHERE s.label <> c.label"
        ).fetchall()
        if differ:
            return None
        new: pa.Table = connection.sql(
            "SELECT c.prediction_id, c.label, c.observed_at, $logged AS logged_at FROM chosen c "
            "ANTI JOIN stored s ON s.prediction_id = c.prediction_id",
            params={"logged": logged_at},
        ).to_arrow_table()
    return new.cast(
        pa.schema(
            [
                ("prediction_id", pa.string()),
                ("label", pa.int64()),
                ("observed_at", pa.string()),
                ("logged_at", pa.string()),
            ]
        )
    )
