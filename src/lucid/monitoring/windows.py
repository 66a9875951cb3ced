"""Windows of logged predictions as tables the compute engine can measure.

A window is the predictions of one model version served in [start, end), each with its
outcome when one arrived. Its table has one column per feature, `score` (the model output)
and, when the reference has a performance profile, `label`. Numbers become DOUBLE; text,
booleans (`true`/`false`) and mixed values become VARCHAR, as DuckDB reads them from files.

The default window is the last complete period of the policy's reporting frequency, aligned
on UTC boundaries (hour, midnight, Monday), so a cron job running twice in one period asks
for the same window and the run stays idempotent.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from lucid.contracts.events import format_time
from lucid.contracts.times import to_utc, utc_text
from lucid.contracts.validity import Frequency
from lucid.errors import InvalidInput
from lucid.ports.monitoring import FEATURE_PREFIX, LoggedPrediction
from lucid.ports.window_scan import Conversion, ScanColumn

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["numeric", "categorical"]

PERIODS = {
    Frequency.HOURLY: timedelta(hours=1),
    Frequency.DAILY: timedelta(days=1),
    Frequency.WEEKLY: timedelta(days=7),
}


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) in canonical UTC text; `key` identifies the run of this window."""

    start: str
    end: str

    @property
    def key(self) -> str:
        return f"{self.start}/{self.end}"


def window_of(
    frequency: Frequency,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Window:
    """The window asked for, or the last complete period before `now`."""
    if (start is None) != (end is None):
        raise InvalidInput("window", "give both --window-start and --window-end, or neither")
    if start is not None and end is not None:
        window = Window(utc_text(start, "window_start"), utc_text(end, "window_end"))
        if window.start >= window.end:
            raise InvalidInput("window_start", "must be before window_end")
        return window
    moment = to_utc(now, "now")
    if frequency is Frequency.HOURLY:
        boundary = moment.replace(minute=0, second=0, microsecond=0)
    else:
        boundary = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if frequency is Frequency.WEEKLY:
            boundary -= timedelta(days=boundary.weekday())
    return Window(format_time(boundary - PERIODS[frequency]), format_time(boundary))


def require_ended(window: Window, now: datetime) -> Window:
    """`window` when it ended at or before `now`; a window still open (or in the future) is
    refused, so a run never stores a partial window as final."""
    if window.end > format_time(to_utc(now, "now")):
        raise InvalidInput(
            "window_end",
            f"window {window.start}..{window.end} ends at {window.end}, which is in the "
            f"future (now {format_time(to_utc(now, 'now'))}); run it once it has ended",
        )
    return window


def _number(value: Any) -> float | None:
    """A numeric cell: numbers as floats, anything else (text, booleans, null) None."""
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float(value)
    return None


def cell_text(value: Any) -> str | None:
    """A categorical cell: text as it is, booleans `true`/`false`, numbers as text."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def infer_kinds(rows: Sequence[LoggedPrediction]) -> dict[str, Kind]:
    """Each feature's kind over `rows`: numeric when every non-null value is a number."""
    return _json_kinds(row.features for row in rows)


def _json_kinds(texts: Iterable[str]) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for text in texts:
        for name, value in json.loads(text).items():
            if value is None:
                kinds.setdefault(name, "numeric")
                continue
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number:
                kinds[name] = "categorical"
            else:
                kinds.setdefault(name, "numeric")
    return kinds


def infer_part_kinds(parts: Sequence[pa.Table]) -> dict[str, Kind]:
    """Each feature's kind over the parts of a window (`PredictionLog.window_parts`):
    numeric when every non-null value is a number."""
    import pyarrow as pa

    kinds: dict[str, Kind] = {}
    for part in parts:
        if "features" in part.column_names:
            found = _json_kinds(part.column("features").to_pylist())
        else:
            found = {}
            for field in part.schema:
                if field.name.startswith(FEATURE_PREFIX):
                    numeric = _is_number(field.type) or pa.types.is_null(field.type)
                    found[field.name[len(FEATURE_PREFIX) :]] = (
                        "numeric" if numeric else "categorical"
                    )
        for name, kind in found.items():
            if kind == "categorical" or name not in kinds:
                kinds[name] = kind
    return kinds


def parts_table(
    parts: Sequence[pa.Table], kinds: Mapping[str, Kind], *, with_label: bool
) -> pa.Table:
    """The window of `parts` as one Arrow table: the features of `kinds`, `score`, and
    `label` if asked (each cell by the rules `_number` and `cell_text`)."""
    import pyarrow as pa

    tables = []
    for part in parts:
        if "features" in part.column_names:
            tables.append(
                _table(
                    part.column("features").to_pylist(),
                    part.column("score"),
                    part.column("label") if with_label else None,
                    kinds,
                )
            )
        else:
            tables.append(_columnar(part, kinds, with_label))
    if not tables:
        return _table(
            [], pa.array([], pa.float64()), pa.array([], pa.int64()) if with_label else None, kinds
        )
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _is_number(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def _columnar(part: pa.Table, kinds: Mapping[str, Kind], with_label: bool) -> pa.Table:
    """A segment part's columns converted to the window's kinds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays: dict[str, Any] = {}
    rows = part.num_rows
    for name in kinds:
        if name in ("score", "label"):
            continue
        column = FEATURE_PREFIX + name
        values = part.column(column) if column in part.column_names else pa.nulls(rows)
        kind = values.type
        if kinds[name] == "numeric":
            arrays[name] = (
                values.cast(pa.float64()) if _is_number(kind) else pa.nulls(rows, pa.float64())
            )
        elif pa.types.is_boolean(kind):
            arrays[name] = pc.if_else(values, "true", "false")
        elif pa.types.is_null(kind):
            arrays[name] = pa.nulls(rows, pa.string())
        else:
            arrays[name] = values.cast(pa.string())
    arrays["score"] = part.column("score").cast(pa.float64())
    if with_label:
        arrays["label"] = part.column("label").cast(pa.int64())
    return pa.table(arrays)


def scan_columns(schema: pa.Schema, kinds: Mapping[str, Kind]) -> tuple[ScanColumn, ...] | None:
    """The conversions of `_columnar` for segments of `schema`, for an engine to apply as it
    scans them; None when one of them is not the engine's plain cast (a number of a
    categorical feature that is not an integer: Arrow writes 1.0 as `1`, SQL as `1.0`)."""
    import pyarrow as pa

    columns = []
    for name in kinds:
        if name in ("score", "label"):
            continue
        source = FEATURE_PREFIX + name
        kind = schema.field(source).type if source in schema.names else pa.null()
        conversion: Conversion
        if kinds[name] == "numeric":
            conversion = "double" if _is_number(kind) else "null_double"
        elif pa.types.is_boolean(kind):
            conversion = "boolean_text"
        elif pa.types.is_null(kind):
            conversion = "null_text"
        elif pa.types.is_integer(kind) or _is_text(kind):
            conversion = "text"
        else:
            return None
        columns.append(ScanColumn(name, source if source in schema.names else None, conversion))
    return tuple(columns)


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def window_table(
    rows: Sequence[LoggedPrediction], kinds: Mapping[str, Kind], *, with_label: bool
) -> pa.Table:
    """The window as an Arrow table: the features of `kinds`, `score`, and `label` if asked."""
    import pyarrow as pa

    return _table(
        [row.features for row in rows],
        pa.array([row.score for row in rows], type=pa.float64()),
        pa.array([row.label for row in rows], type=pa.int64()) if with_label else None,
        kinds,
    )


def _table(
    texts: Sequence[str], scores: Any, labels: Any | None, kinds: Mapping[str, Kind]
) -> pa.Table:
    """Rows of JSON features with their scores (and labels) as a table of `kinds`."""
    import pyarrow as pa

    names = [name for name in kinds if name not in ("score", "label")]
    features = _typed_features(texts, names, kinds)
    arrays: dict[str, Any] = (
        _features_by_rule(texts, names, kinds)
        if features is None
        else {name: features.column(name).combine_chunks() for name in names}
    )
    arrays["score"] = scores
    if labels is not None:
        arrays["label"] = labels
    return pa.table(arrays)


def _typed_features(
    texts: Sequence[str], names: Sequence[str], kinds: Mapping[str, Kind]
) -> pa.Table | None:
    """The features of `texts` read by Arrow's JSON reader, when every value already has its
    column's type (numbers in numeric columns, text in categorical ones, or null); None as
    soon as one does not, and `_features_by_rule` converts them instead. Same values, read
    in C++ rather than one Python call per cell."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    if not texts:
        return None
    schema = pa.schema(
        [(name, pa.float64() if kinds[name] == "numeric" else pa.string()) for name in names]
    )
    text = "\n".join(texts).encode("utf-8")
    try:
        table = pa_json.read_json(
            io.BytesIO(text),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == len(texts) else None


def _features_by_rule(
    texts: Sequence[str], names: Sequence[str], kinds: Mapping[str, Kind]
) -> dict[str, pa.Array]:
    """Each feature column by the cell rules `_number` and `cell_text`."""
    import pyarrow as pa

    # One parse of the whole window: a JSON array of every row's features.
    decoded: list[dict[str, Any]] = json.loads("[" + ",".join(texts) + "]")
    arrays: dict[str, pa.Array] = {}
    for name in names:
        if kinds[name] == "numeric":
            numbers = [_number(values.get(name)) for values in decoded]
            arrays[name] = pa.array(numbers, type=pa.float64())
        else:
            texts_of = [cell_text(values.get(name)) for values in decoded]
            arrays[name] = pa.array(texts_of, type=pa.string())
    return arrays
