"""The one time rule of the feature store, for every time a caller gives.

An aware time (a `datetime` with a zone, a pandas timestamp with a zone) is converted to UTC;
ISO 8601 text with an offset (`2025-06-15T17:30:00+05:30`, `…Z`) is that instant; a naive time
or text without an offset means UTC; a `date` means its midnight, UTC. Nothing here reads the
machine's local zone. Anything else is refused with one sentence naming the field, the value
and its type. Engines apply the same rule in SQL to label files (`lucid.engines`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from lucid.contracts.events import format_time
from lucid.errors import InvalidInput

EXAMPLE = "2025-06-15T17:30:00+02:00"
"""The ISO 8601 time quoted by every refusal."""

_PYTHON_TYPES = {str: "text", bool: "boolean", int: "integer", float: "double", time: "time of day"}


def to_utc(value: object, field: str) -> datetime:
    """The aware UTC datetime of a time given by a caller (see the module's rule).

    Raises InvalidInput naming `field` for a value that is not a time (NULL included).
    """
    if isinstance(value, str):
        return _parse(value, field)
    if isinstance(value, datetime):
        if value != value:  # pandas' NaT: a missing time
            raise not_a_time(field, None)
        if type(value) is not datetime:  # a pandas Timestamp: a plain datetime for the engines
            value = datetime.combine(value.date(), value.timetz())
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(
                field, f"{value.isoformat()} is before year 1 or after 9999 once in UTC"
            ) from None
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind == "M":  # a numpy datetime64: naive, so UTC
        return to_utc(value.astype("datetime64[us]").item(), field)  # type: ignore[attr-defined]
    raise not_a_time(field, value)


def to_naive_utc(value: object, field: str) -> datetime:
    """The UTC wall time of a time given by a caller, without a zone (what the engines'
    TIMESTAMP columns hold)."""
    return to_utc(value, field).replace(tzinfo=None)


def utc_text(value: object, field: str) -> str:
    """The canonical stored text (`format_time`) of a time given by a caller."""
    return format_time(to_utc(value, field))


def not_a_time(field: str, value: object, kind: str | None = None) -> InvalidInput:
    """The refusal of `value` in `field`, naming the value and its type (`kind`, when the
    value's type is a column's, e.g. an engine's `integer`; else the Python value's)."""
    if value is None:
        return InvalidInput(field, f"NULL (no value) is not a time; write ISO 8601, e.g. {EXAMPLE}")
    named = kind or _PYTHON_TYPES.get(type(value), type(value).__name__)
    return InvalidInput(
        field, f"{_shown(value)} ({named}) is not a time; write ISO 8601, e.g. {EXAMPLE}"
    )


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _parse(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise not_a_time(field, text) from None
    return to_utc(moment, field)
