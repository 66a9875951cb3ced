"""The training set that docs/features.md prescribes, computed in plain Python.

Written from the page's rules (Time; Windows and "as known at"; Duplicates; Aggregates; `last`
keeps a NULL; Ties; Data time and TTL), not from Lucid's SQL, so that the contract tests can
compare it cell by cell with what an engine returns. Times are naive UTC `datetime`s.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lucid.contracts.semantic import (
    Aggregate,
    Condition,
    FeatureDefinition,
    NormaliserKind,
    Operator,
    Source,
    Term,
    WindowedAggregation,
)

Row = Mapping[str, Any]

_COMPARISONS: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
}


def instant(value: object) -> datetime:
    """The UTC instant a time names (Time): aware → UTC; text with an offset → that instant;
    naive → UTC; a date → its midnight, UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise TypeError(f"{value!r} is not a time")


def holds(condition: Condition, row: Row) -> bool | None:
    """The condition's truth for a row; None when it is NULL (a NULL operand)."""
    value = row.get(condition.column)
    if condition.op is Operator.IS_NULL:
        return value is None
    if condition.op is Operator.NOT_NULL:
        return value is not None
    if value is None:
        return None
    if condition.op is Operator.IN:
        assert isinstance(condition.value, tuple)
        return value in condition.value
    if condition.op is Operator.NOT_IN:
        assert isinstance(condition.value, tuple)
        return value not in condition.value
    return bool(_COMPARISONS[condition.op](value, condition.value))


def counts(
    row: Row, term: Term, definition: FeatureDefinition, source: Source, entity: str, t: datetime
) -> bool:
    """Rules 1–5 of "Windows and as known at": does this source row count for (entity, t)?"""
    key, event_time = row.get(source.entity_key), row.get(source.event_time)
    if key is None or event_time is None or str(key) != str(entity):
        return False
    if not t - timedelta(seconds=definition.window.seconds) < event_time <= t:
        return False
    if source.ingestion_time is not None:
        ingested = row.get(source.ingestion_time)
        if ingested is None or ingested > t:
            return False
    for exclusion in definition.exclusions:
        if exclusion.applies_to(source.name) and holds(exclusion.where, row) is True:
            return False
    return all(holds(condition, row) is True for condition in term.filters)


def _ranked(value: Any) -> tuple[bool, Any]:
    """A value's rank in a tie: a NULL ranks above every value."""
    return (value is None, value if value is not None else 0)


def latest(events: Sequence[Row], column: str, source: Source) -> Row:
    """Ties: the latest event time; then the one ingested last; then the greatest value."""

    def rank(row: Row) -> tuple[Any, ...]:
        ingested = row[source.ingestion_time] if source.ingestion_time else None
        return (row[source.event_time], _ranked(ingested), _ranked(row[column]))

    return max(events, key=rank)


def aggregate(term: Term, events: Sequence[Row], source: Source) -> Any:
    """The Aggregates table: the value over the kept events (every row is one event)."""
    if term.aggregate is Aggregate.COUNT:
        return len(events)
    assert term.column is not None
    if term.aggregate is Aggregate.LAST:
        return latest(events, term.column, source)[term.column] if events else None
    present = [row[term.column] for row in events if row[term.column] is not None]
    if term.aggregate is Aggregate.SUM:
        return sum(present)
    if term.aggregate is Aggregate.COUNT_DISTINCT:
        return len(set(present))
    if not present:
        return None
    if term.aggregate is Aggregate.AVG:
        return sum(present) / len(present)
    return min(present) if term.aggregate is Aggregate.MIN else max(present)


def normalised(term: Term, value: Any) -> Any:
    kind, parameter = term.normalise.kind, term.normalise.parameter
    if value is None or kind is NormaliserKind.NONE:
        return value
    assert parameter is not None or kind is NormaliserKind.LOG1P
    if kind is NormaliserKind.CAP:
        return min(value, parameter) / parameter
    if kind is NormaliserKind.LOG1P:
        return math.log1p(value)
    return value / (value + parameter)


@dataclass(frozen=True)
class Computed:
    """A definition's value for one (entity, t) and the data time behind it (None: empty)."""

    value: Any
    data_time: datetime | None


def compute(
    definition: FeatureDefinition,
    sources: Mapping[str, Source],
    events: Mapping[str, Sequence[Row]],
    entity: str,
    t: datetime,
) -> Computed:
    """Σ weight × normalise(aggregate) over the terms, before the TTL rule."""
    computation = definition.computation
    assert isinstance(computation, WindowedAggregation), "the reference reads no SQL"
    parts, data_time = [], None
    for term in computation.terms:
        source = sources[term.source]
        kept = [
            row
            for row in events.get(term.source, ())
            if counts(row, term, definition, source, entity, t)
        ]
        if kept:
            newest = max(row[source.event_time] for row in kept)
            data_time = newest if data_time is None else max(data_time, newest)
        parts.append((term, normalised(term, aggregate(term, kept, source))))
    if len(parts) == 1 and parts[0][0].weight == 1.0:
        return Computed(parts[0][1], data_time)  # a text `last` is not multiplied
    if any(value is None for _, value in parts):
        return Computed(None, data_time)
    return Computed(sum(term.weight * value for term, value in parts), data_time)


def served(definition: FeatureDefinition, computed: Computed, t: datetime) -> Any:
    """Data time and TTL: a stale value (too old, or an empty window under a TTL) is NULL."""
    if definition.ttl is None:
        return computed.value
    if computed.data_time is None:
        return None
    fresh = t - computed.data_time <= timedelta(seconds=definition.ttl.seconds)
    return computed.value if fresh else None


def training_set(
    labels: Sequence[tuple[str, object]],
    definitions: Sequence[FeatureDefinition],
    sources: Mapping[str, Source],
    events: Mapping[str, Sequence[Row]],
) -> list[list[Any]]:
    """One list of feature values (in the definitions' order) per (entity, label time)."""
    table = []
    for entity, when in labels:
        t = instant(when)
        table.append(
            [
                served(definition, compute(definition, sources, events, entity, t), t)
                for definition in definitions
            ]
        )
    return table
