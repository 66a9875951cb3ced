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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from lucid.contracts.events import format_time
from lucid.contracts.times import to_utc, utc_text
from lucid.contracts.validity import Frequency
from lucid.errors import InvalidInput
from lucid.ports.monitoring import LoggedPrediction

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


def _text(value: Any) -> str | None:
    """A categorical cell: text as it is, booleans `true`/`false`, numbers as text."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def infer_kinds(rows: Sequence[LoggedPrediction]) -> dict[str, Kind]:
    """Each feature's kind over `rows`: numeric when every non-null value is a number."""
    kinds: dict[str, Kind] = {}
    for row in rows:
        for name, value in json.loads(row.features).items():
            if value is None:
                kinds.setdefault(name, "numeric")
                continue
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number:
                kinds[name] = "categorical"
            else:
                kinds.setdefault(name, "numeric")
    return kinds


def window_table(
    rows: Sequence[LoggedPrediction], kinds: Mapping[str, Kind], *, with_label: bool
) -> pa.Table:
    """The window as an Arrow table: the features of `kinds`, `score`, and `label` if asked."""
    import pyarrow as pa

    names = [name for name in kinds if name not in ("score", "label")]
    features = _typed_features(rows, names, kinds)
    arrays: dict[str, pa.Array] = (
        _features_by_rule(rows, names, kinds)
        if features is None
        else {name: features.column(name).combine_chunks() for name in names}
    )
    arrays["score"] = pa.array([row.score for row in rows], type=pa.float64())
    if with_label:
        arrays["label"] = pa.array([row.label for row in rows], type=pa.int64())
    return pa.table(arrays)


def _typed_features(
    rows: Sequence[LoggedPrediction], names: Sequence[str], kinds: Mapping[str, Kind]
) -> pa.Table | None:
    """The features of `rows` read by Arrow's JSON reader, when every value already has its
    column's type (numbers in numeric columns, text in categorical ones, or null); None as
    soon as one does not, and `_features_by_rule` converts them instead. Same values, read
    in C++ rather than one Python call per cell."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    if not rows:
        return None
    schema = pa.schema(
        [(name, pa.float64() if kinds[name] == "numeric" else pa.string()) for name in names]
    )
    text = "\n".join(row.features for row in rows).encode("utf-8")
    try:
        table = pa_json.read_json(
            io.BytesIO(text),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == len(rows) else None


def _features_by_rule(
    rows: Sequence[LoggedPrediction], names: Sequence[str], kinds: Mapping[str, Kind]
) -> dict[str, pa.Array]:
    """Each feature column by the cell rules `_number` and `_text`."""
    import pyarrow as pa

    # One parse of the whole window: a JSON array of every row's features.
    decoded: list[dict[str, Any]] = json.loads("[" + ",".join(row.features for row in rows) + "]")
    arrays: dict[str, pa.Array] = {}
    for name in names:
        if kinds[name] == "numeric":
            numbers = [_number(values.get(name)) for values in decoded]
            arrays[name] = pa.array(numbers, type=pa.float64())
        else:
            texts = [_text(values.get(name)) for values in decoded]
            arrays[name] = pa.array(texts, type=pa.string())
    return arrays
