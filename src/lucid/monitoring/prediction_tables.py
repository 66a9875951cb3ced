"""Predictions logged as columns: a file's (or a caller's) Arrow table validated column by
column, with the rules and the sentences of `lucid.monitoring.predictions`, and stored as
segments of the columnar log.

Columns `id` (optional), `entity`, `served_at`, `score` and `arm` (optional) are the
prediction's; every other column is a feature. A feature column keeps its type: integers,
numbers (NaN and ±inf kept as null), text, booleans, or null. Rows given as dictionaries
become columns by the same rule; a feature whose values mix numbers and text in one batch is
stored as text (numbers written out, booleans `true`/`false`).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lucid.contracts.times import not_a_time, utc_text
from lucid.contracts.value import validate_model_name
from lucid.errors import Conflict, InvalidInput
from lucid.monitoring.logged_ids import LoggedIds, compact_ids
from lucid.monitoring.windows import cell_text
from lucid.ports.monitoring import FEATURE_PREFIX, PredictionLog

if TYPE_CHECKING:
    import pyarrow as pa

RESERVED_COLUMNS = frozenset({"score", "label"})
"""Column names a window gives the model output and the outcome; no feature may take them."""

OWN_COLUMNS = ("id", "entity", "served_at", "score", "arm")
"""A prediction's own columns in a file; every other column is a feature."""

_CANONICAL = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"


def log_prediction_table(
    log: PredictionLog, model: str, version: str, chunks: Iterable[pa.Table]
) -> LoggedIds:
    """Validate the chunks of one table (a file read in parts) and store them as segments,
    all or none; returns the ids. Nothing is stored on refusal."""
    stream = iter(chunks)
    first = next(stream, None)
    if first is None:
        raise InvalidInput("rows", "must hold at least one prediction")
    given_ids = "id" in first.column_names
    every = itertools.chain([first], stream)
    del first  # each chunk is let go once stored
    ids: list[pa.Array] = []

    def validated() -> Iterator[pa.Table]:
        offset = 0
        for chunk in every:
            if offset and not chunk.num_rows:
                continue
            batch, kept = prediction_table(model, version, chunk, offset=offset)
            ids.append(kept)
            offset += chunk.num_rows
            del chunk
            yield batch
            del batch

    taken = log.append_predictions(model, validated(), check_ids=given_ids)
    if taken is not None:
        raise Conflict(
            f"rows.id: {taken!r} is already logged; a prediction id is unique, nothing was stored."
        )
    return LoggedIds(ids)


def store_table(log: PredictionLog, model: str, batch: pa.Table, *, check_ids: bool) -> list[str]:
    """Store a validated batch; refused (nothing stored) when an id given by the caller
    (`check_ids`) is already logged. Returns the ids."""
    taken = log.append_predictions(model, [batch], check_ids=check_ids)
    if taken is not None:
        raise Conflict(
            f"rows.id: {taken!r} is already logged; a prediction id is unique, nothing was stored."
        )
    ids: list[str] = batch.column("id").to_pylist()
    return ids


def prediction_table(
    model: str, version: str, table: pa.Table, *, offset: int = 0
) -> tuple[pa.Table, pa.Array]:
    """The validated batch (`id`, `version`, `entity`, `served_at`, `score`, `arm`,
    `feature.<name>`...) and its ids kept compact (`compact_ids`); the first bad field
    refuses the whole batch, named by its row counted from `offset`."""
    try:
        return _validated(model, version, table)
    except InvalidInput as error:
        if not offset:
            raise
        field = re.sub(r"^rows\[(\d+)\]", lambda m: f"rows[{int(m[1]) + offset}]", error.field)
        raise InvalidInput(field, error.rule) from None


def _validated(model: str, version: str, table: pa.Table) -> tuple[pa.Table, pa.Array]:
    import pyarrow as pa

    validate_model_name(model)
    if table.num_rows == 0:
        raise InvalidInput("rows", "must hold at least one prediction")
    names = table.column_names
    ids, kept = _ids(table.column("id") if "id" in names else None, table.num_rows)
    columns: dict[str, Any] = {
        "id": ids,
        "version": pa.repeat(pa.scalar(version, pa.string()), table.num_rows),
        "entity": _entities(_column(table, "entity")),
        "served_at": _times(_column(table, "served_at")),
        "score": _scores(_column(table, "score")),
        "arm": _arms(table.column("arm") if "arm" in names else None, table.num_rows),
    }
    for name in names:
        if name not in OWN_COLUMNS:
            columns[FEATURE_PREFIX + name] = _feature(name, table.column(name))
    return pa.table(columns), kept


def rows_table(validated: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows validated by `lucid.monitoring.predictions.prediction_rows` as a batch of
    `prediction_table`'s shape, one column per feature."""
    import pyarrow as pa

    features = [json.loads(row["features"]) for row in validated]
    names = list(dict.fromkeys(name for values in features for name in values))
    columns: dict[str, Any] = {
        key: pa.array([row[key] for row in validated], pa.string())
        for key in ("id", "version", "entity")
    }
    served = pa.array([row["served_at"] for row in validated], pa.string())
    columns["served_at"] = served.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    columns["score"] = pa.array([row["score"] for row in validated], pa.float64())
    columns["arm"] = pa.array([row["arm"] for row in validated], pa.string())
    for name in names:
        columns[FEATURE_PREFIX + name] = _typed([values.get(name) for values in features])
    return pa.table(columns)


def _typed(values: list[Any]) -> pa.Array:
    """One feature's values as a column of the type they share (see the module's rule)."""
    import pyarrow as pa

    kinds = {type(value) for value in values if value is not None}
    if not kinds:
        return pa.nulls(len(values))
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    if kinds == {int}:
        return pa.array(values, pa.int64())
    if kinds <= {int, float}:
        return pa.array(values, pa.float64())
    if kinds == {str}:
        return pa.array(values, pa.string())
    return pa.array([cell_text(value) for value in values], pa.string())


def _column(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        raise InvalidInput(f"rows[0].{name}", f"is missing; every prediction needs its {name}")
    return table.column(name).combine_chunks()


def _first(mask: pa.Array) -> int | None:
    """The position of the first true value of `mask`, or None."""
    import pyarrow.compute as pc

    found = pc.index(mask.fill_null(True), True).as_py()
    return None if found < 0 else int(found)


def _ids(column: pa.ChunkedArray | None, rows: int) -> tuple[pa.Array, pa.Array]:
    """The batch's ids as text and kept compact: made (UUIDv7) when none is given."""
    import pyarrow.compute as pc

    if column is None or column.null_count == rows:
        return _time_ordered(rows)
    given = _short_texts(column, "id", 64, "must be non-empty text of at most 64 characters")
    if given.null_count:
        given = pc.if_else(given.is_valid(), given, time_ordered_ids(rows))
    counts = pc.value_counts(given)
    twice = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(twice):
        raise InvalidInput(
            "rows.id", f"{twice[0].as_py()!r} is given twice; a prediction id is unique"
        )
    return given, compact_ids(given)


def _entities(column: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_integer(kind):
        column = column.cast(pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InvalidInput("rows[0].entity", f"must be a non-empty id, not {column[0].as_py()!r}")
    trimmed = pc.utf8_trim_whitespace(column.cast(pa.string()))
    bad = _first(pc.equal(pc.utf8_length(trimmed), 0))
    if bad is not None:
        raise InvalidInput(
            f"rows[{bad}].entity", f"must be a non-empty id, not {column[bad].as_py()!r}"
        )
    return trimmed


def _times(column: pa.Array) -> pa.Array:
    """Each time as a UTC timestamp in microseconds, without a zone (`lucid.contracts.times`:
    naive means UTC, an offset is honoured)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if column.null_count:
        raise not_a_time(f"rows[{_first(column.is_null())}].served_at", None)
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_date(kind):
        column, kind = column.cast(pa.timestamp("s")), pa.timestamp("s")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.cast(pa.string())
        if not pc.all(pc.match_substring_regex(text, _CANONICAL)).as_py():
            text = _canonical(text)
        column, kind = text.cast(pa.timestamp("us", tz="UTC")), pa.timestamp("us", tz="UTC")
    if not pa.types.is_timestamp(kind):
        raise not_a_time("rows[0].served_at", column[0].as_py(), str(kind))
    utc = column.cast(pa.timestamp(kind.unit, tz=kind.tz or "UTC"))
    return utc.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.timestamp("us"))


def _canonical(text: pa.Array) -> pa.Array:
    """Times given as text in canonical form, each distinct value converted once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    distinct = pc.unique(text)
    canonical = {}
    for position, value in enumerate(distinct.to_pylist()):
        try:
            canonical[value] = utc_text(value, "served_at")
        except InvalidInput:
            row = _first(pc.equal(text, distinct[position]))
            raise not_a_time(f"rows[{row}].served_at", value) from None
    return pa.array([canonical[value] for value in text.to_pylist()], pa.string())


def _scores(column: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    if not numeric or column.null_count:
        row = 0 if not numeric else _first(column.is_null())
        raise InvalidInput(f"rows[{row}].score", f"must be a number, not {column[row].as_py()!r}")
    score = column.cast(pa.float64())
    valid = pc.and_(
        pc.is_finite(score), pc.and_(pc.greater_equal(score, 0), pc.less_equal(score, 1))
    )
    bad = _first(pc.invert(valid))
    if bad is not None:
        raise InvalidInput(
            f"rows[{bad}].score",
            f"must be a probability between 0 and 1, not {score[bad].as_py()}",
        )
    return score


def _arms(column: pa.ChunkedArray | None, rows: int) -> pa.Array:
    import pyarrow as pa

    if column is None or column.null_count == rows:
        return pa.nulls(rows, pa.string())
    return _short_texts(column, "arm", 100, "must be a short non-empty name or absent")


def _short_texts(column: pa.ChunkedArray, field: str, limit: int, rule: str) -> pa.Array:
    """`column` as text, every present value non-blank and at most `limit` characters; the
    first that is not refused as `rows[i].field: rule, not 'value'`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = column.combine_chunks()
    if pa.types.is_dictionary(texts.type):
        texts = texts.cast(texts.type.value_type)
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        first = _first(texts.is_valid()) or 0
        raise InvalidInput(f"rows[{first}].{field}", f"{rule}, not {texts[first].as_py()!r}")
    texts = texts.cast(pa.string())
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0)
    too_long = pc.greater(pc.utf8_length(texts), limit)
    bad = _first(pc.and_kleene(texts.is_valid(), pc.or_(blank, too_long)))  # absent is allowed
    if bad is not None:
        raise InvalidInput(f"rows[{bad}].{field}", f"{rule}, not {texts[bad].as_py()!r}")
    return texts


def _feature(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not name.strip():
        raise InvalidInput("rows[0].features", f"{name!r} is not a feature name")
    if name in RESERVED_COLUMNS:
        raise InvalidInput(
            f"rows[0].features.{name}",
            "is reserved for the model output and the outcome; rename the feature",
        )
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_integer(kind):
        return column.cast(pa.int64())
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        numbers = column.cast(pa.float64())
        if pc.all(pc.is_finite(numbers)).as_py() is not False:
            return numbers
        return pc.if_else(pc.is_finite(numbers), numbers, pa.scalar(None, pa.float64()))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.string())
    if pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return column
    row = _first(column.combine_chunks().is_valid())
    raise InvalidInput(
        f"rows[{row or 0}].features.{name}",
        f"must be a number, text, boolean or null, not {column[row or 0].as_py()!r}",
    )


def time_ordered_ids(count: int) -> pa.Array:
    """`count` UUIDs of version 7 (`lucid.monitoring.predictions.time_ordered_id`), made at
    once: the same millisecond, 74 random bits each."""
    return _time_ordered(count)[0]


def _time_ordered(count: int) -> tuple[pa.Array, pa.Array]:
    """`time_ordered_ids` as text and as their 16 bytes."""
    import numpy as np
    import pyarrow as pa

    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    milliseconds = time.time_ns() // 1_000_000
    raw[:, :6] = np.frombuffer(milliseconds.to_bytes(6, "big"), dtype=np.uint8)
    raw[:, 6] = 0x70 | (raw[:, 6] & 0x0F)
    raw[:, 8] = 0x80 | (raw[:, 8] & 0x3F)
    pairs = np.array([f"{byte:02x}".encode() for byte in range(256)]).view(np.uint16)
    hexed = pairs[raw].view(np.uint8)  # two hex digits a byte, in order
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    for start, end, into in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, into : into + end - start] = hexed[:, start:end]
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    texts = pa.Array.from_buffers(
        pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    )
    return texts, pa.Array.from_buffers(pa.binary(16), count, [None, pa.py_buffer(raw)])


def version_name(version: str | int) -> str:
    """The version text a prediction is logged under (1 to 100 characters)."""
    version_text = str(version).strip()
    if isinstance(version, bool) or not version_text or len(version_text) > 100:
        raise InvalidInput(
            "version", f"must be a version name of 1 to 100 characters, not {version!r}"
        )
    return version_text
