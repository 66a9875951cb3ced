"""Generated feature-store worlds for the reference tests: two event sources, definitions over
them and label rows, with events at, just before and just after window edges and label times,
late rows, NULL values and ingestion times, duplicates and ties.

`Rules` chooses which of the page's rules a strategy exercises, so that a failure names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Condition,
    Duration,
    Exclusion,
    FeatureDefinition,
    Normaliser,
    NormaliserKind,
    Operator,
    Source,
    SourceKind,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
)
from tests.source_rows import write_source

T0 = datetime(2025, 6, 15, 12, 0)
MICRO = timedelta(microseconds=1)
ENTITIES = ("a", "b", "c")
ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham", "Europe/Paris")
HOUR, DAY = 3_600, 86_400

ORDERS_SCHEMA = {
    "customer_id": ColumnType.STRING,
    "ordered_at": ColumnType.TIMESTAMP,
    "loaded_at": ColumnType.TIMESTAMP,
    "amount": ColumnType.DOUBLE,
    "plan": ColumnType.STRING,
    "channel": ColumnType.STRING,
    "is_bot": ColumnType.BOOLEAN,
}
VISITS_SCHEMA = {
    "customer_id": ColumnType.STRING,
    "visited_at": ColumnType.TIMESTAMP,
    "seen_at": ColumnType.TIMESTAMP,
    "pages": ColumnType.INTEGER,
    "is_bot": ColumnType.BOOLEAN,
}
VALUES: dict[str, tuple[Any, ...]] = {
    "amount": (0.0, 0.5, 1.25, 10.0, 99.75),
    "plan": ("basic", "pro", "team"),
    "channel": ("web", "app", "shop"),
    "is_bot": (False, False, True),
    "pages": (0, 1, 2, 5),
}
FILTERS = {
    "orders": (
        Condition("channel", Operator.IN, ("web", "app")),
        Condition("amount", Operator.GE, 1.25),
        Condition("plan", Operator.NOT_IN, ("basic",)),
        Condition("channel", Operator.EQ, "web"),
        Condition("amount", Operator.NOT_NULL),
    ),
    "visits": (Condition("pages", Operator.NE, 0), Condition("pages", Operator.LT, 3)),
}
NUMERIC = {"orders": "amount", "visits": "pages"}
DISTINCT = {"orders": ("plan", "channel", "amount"), "visits": ("pages",)}


@dataclass(frozen=True)
class Rules:
    """What a generated world may hold."""

    aggregates: tuple[Aggregate, ...] = (
        Aggregate.COUNT,
        Aggregate.SUM,
        Aggregate.AVG,
        Aggregate.MIN,
        Aggregate.MAX,
        Aggregate.COUNT_DISTINCT,
    )
    null_values: bool = True  # NULL in value columns (amount, plan, channel, pages, is_bot)
    ties: bool = True  # several events of an entity at one event time (with other values)
    ttl: bool = False
    last_columns: tuple[str, ...] = ("amount", "plan", "pages")
    cap_nullable: bool = False  # a cap normaliser on an aggregate that may be NULL (avg, …)
    nulls: int = 1  # a NULL is drawn as often as this many values of a column
    filters: int = 2  # at most this many filters on a term
    integer_keys: bool = False  # visits' entity key is an integer column; ids are digits
    midnights: bool = False  # label times are midnights (UTC), so that they can be dates


CORE = Rules()
LAST = Rules(aggregates=(Aggregate.LAST,), null_values=False, ties=False, filters=1)
LAST_NULL = replace(LAST, null_values=True, nulls=4)
LAST_TIES = replace(LAST, ties=True)
NORMALISED_NULL = replace(
    CORE, aggregates=(Aggregate.AVG, Aggregate.MIN, Aggregate.MAX), cap_nullable=True
)
INTEGER_KEYS = replace(CORE, integer_keys=True)
MIDNIGHTS = replace(CORE, midnights=True)
# No NULL values under a TTL: "the latest event counted" (Data time) does not say whether an
# event whose value an aggregate skips is counted.
TTL = Rules(aggregates=(*CORE.aggregates, Aggregate.LAST), null_values=False, ties=False, ttl=True)


@dataclass
class World:
    """Sources, their events (naive UTC times), definitions and labels (entity, UTC time)."""

    sources: dict[str, Source]
    events: dict[str, list[dict[str, Any]]]
    definitions: list[FeatureDefinition]
    labels: list[tuple[str, datetime]]

    def __repr__(self) -> str:
        """A compact listing for hypothesis's falsifying examples."""
        lines = ["World("]
        for name, source in self.sources.items():
            lines.append(f"  {name} (ingestion time: {source.ingestion_time}):")
            lines += [f"    {_row(row)}" for row in self.events[name]]
        for definition in self.definitions:
            lines.append(f"  {_described(definition)}")
        lines.append(f"  labels: {[(e, t.isoformat()) for e, t in self.labels]}")
        return "\n".join([*lines, ")"])

    def write(self, project: Path, zone: str | None = None) -> None:
        """Each source's events as one Parquet file under project/data/<source>/; with `zone`,
        time columns are zone-aware timestamps (the same instants)."""
        for name, source in self.sources.items():
            write_source(project, source, self.events[name], zone)


def _row(row: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{column}={value.isoformat() if isinstance(value, datetime) else value!r}"
        for column, value in row.items()
    )


def _described(definition: FeatureDefinition) -> str:
    assert isinstance(definition.computation, WindowedAggregation)
    terms = " + ".join(
        f"{term.weight:g}*{term.normalise}({term.source}.{term.describe()})"
        for term in definition.computation.terms
    )
    exclusions = "; ".join(
        f"{e.name}: {e.where} on {e.sources or 'all'}" for e in definition.exclusions
    )
    return (
        f"{definition.name} = {terms} window {definition.window} ttl {definition.ttl}"
        f"{' excluding ' + exclusions if exclusions else ''}"
    )


def sources(
    orders_ingestion: bool, visits_ingestion: bool, integer_keys: bool = False
) -> dict[str, Source]:
    visits_schema = dict(VISITS_SCHEMA)
    if integer_keys:
        visits_schema["customer_id"] = ColumnType.INTEGER
    return {
        "orders": Source(
            name="orders",
            kind=SourceKind.PARQUET,
            location="data/orders",
            entity="customer",
            entity_key="customer_id",
            event_time="ordered_at",
            ingestion_time="loaded_at" if orders_ingestion else None,
            schema=ORDERS_SCHEMA,
        ),
        "visits": Source(
            name="visits",
            kind=SourceKind.PARQUET,
            location="data/visits",
            entity="customer",
            entity_key="customer_id",
            event_time="visited_at",
            ingestion_time="seen_at" if visits_ingestion else None,
            schema=visits_schema,
        ),
    }


def _value(draw: st.DrawFn, column: str, rules: Rules) -> Any:
    choices: tuple[Any, ...] = VALUES[column]
    if rules.null_values or column == "is_bot":  # a NULL exclusion condition never excludes
        choices = (*choices, *[None] * rules.nulls)
    return draw(st.sampled_from(choices))


@st.composite
def _event_times(
    draw: st.DrawFn, anchors: Sequence[datetime], windows: Sequence[int], ties: bool
) -> datetime:
    """At, just before or just after a label time or a window's far edge, or anywhere (with
    `ties`, on a few whole minutes, so that events of an entity often share a time)."""
    anchor = draw(st.sampled_from(anchors))
    edges = [timedelta(0)] + [-timedelta(seconds=w) for w in windows]
    kind = draw(st.sampled_from(("edge", "inside")))
    if kind == "edge":
        return (
            anchor
            + draw(st.sampled_from(edges))
            + draw(st.sampled_from((-MICRO, 0 * MICRO, MICRO)))
        )
    if ties:
        return anchor - timedelta(seconds=draw(st.sampled_from((60, 600, 1_800))))
    return anchor - timedelta(seconds=draw(st.integers(0, max(windows))))


@st.composite
def _ingestion(draw: st.DrawFn, event_time: datetime, anchors: Sequence[datetime]) -> Any:
    """With the event, late (after it), at or next to a label time, or NULL."""
    kind = draw(st.sampled_from(("with", "with", "late", "anchor", "anchor", "null")))
    if kind == "with":
        return event_time
    if kind == "late":
        lag = draw(
            st.sampled_from((MICRO, timedelta(minutes=1), timedelta(hours=2), timedelta(days=1)))
        )
        return event_time + lag
    if kind == "anchor":
        return draw(st.sampled_from(anchors)) + draw(st.sampled_from((-MICRO, 0 * MICRO, MICRO)))
    return None


@st.composite
def _events(
    draw: st.DrawFn,
    source: Source,
    anchors: Sequence[datetime],
    windows: Sequence[int],
    rules: Rules,
    entities: Sequence[str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, datetime]] = set()
    for _ in range(draw(st.integers(0, 24))):
        entity = draw(st.sampled_from(entities))
        moment = draw(_event_times(anchors, windows, rules.ties))
        if not rules.ties and (entity, moment) in seen:
            continue
        seen.add((entity, moment))
        integer = source.schema[source.entity_key] is ColumnType.INTEGER
        key = int(entity) if integer else entity
        row: dict[str, Any] = {source.entity_key: key, source.event_time: moment}
        ingestion_column = "loaded_at" if source.name == "orders" else "seen_at"
        row[ingestion_column] = draw(_ingestion(moment, anchors))
        for column in source.schema:
            if column not in row:
                row[column] = _value(draw, column, rules)
        rows.append(row)
    if rows and draw(st.booleans()):  # exact duplicates: each row is one event
        rows += [dict(row) for row in draw(st.lists(st.sampled_from(rows), max_size=3))]
    return rows


@st.composite
def _term(draw: st.DrawFn, source: str, rules: Rules, *, single: bool) -> Term:
    aggregates = (
        rules.aggregates if single else tuple(a for a in rules.aggregates if a.zero_when_empty)
    )
    aggregate = draw(st.sampled_from(aggregates))
    filters = tuple(
        draw(st.lists(st.sampled_from(FILTERS[source]), max_size=rules.filters, unique=True))
    )
    if aggregate is Aggregate.COUNT:
        normalise = draw(
            st.sampled_from(
                (
                    Normaliser(),
                    Normaliser(NormaliserKind.CAP, 3),
                    Normaliser(NormaliserKind.LOG1P),
                    Normaliser(NormaliserKind.SATURATING, 2),
                )
            )
        )
        weight = draw(st.sampled_from((1.0, 0.5, -2.0)))
        return Term(source, aggregate, filters=filters, normalise=normalise, weight=weight)
    if aggregate is Aggregate.COUNT_DISTINCT:
        column = draw(st.sampled_from(DISTINCT[source]))
    elif aggregate is Aggregate.LAST:
        column = draw(st.sampled_from([c for c in rules.last_columns if c in _schema(source)]))
    else:
        column = NUMERIC[source]
    if column == "plan" or (column in ("channel",) and aggregate is not Aggregate.COUNT_DISTINCT):
        return Term(source, aggregate, column=column, filters=filters)
    capped = aggregate.zero_when_empty or rules.cap_nullable
    normalise = draw(st.sampled_from((Normaliser(), Normaliser(NormaliserKind.CAP, 50))))
    normalise = normalise if capped else Normaliser()
    weight = draw(st.sampled_from((1.0, 0.5)))
    return Term(source, aggregate, column, filters, normalise, weight)


def _schema(source: str) -> Mapping[str, ColumnType]:
    return ORDERS_SCHEMA if source == "orders" else VISITS_SCHEMA


@st.composite
def _definition(
    draw: st.DrawFn, number: int, windows: Sequence[int], rules: Rules
) -> FeatureDefinition:
    combinations: list[tuple[str, ...]] = [("orders",), ("visits",)]
    if any(aggregate.zero_when_empty for aggregate in rules.aggregates):
        combinations.append(("orders", "visits"))
    names = draw(st.sampled_from(combinations))
    single = len(names) == 1
    terms = tuple(draw(_term(name, rules, single=single)) for name in names)
    exclusions = []
    if draw(st.booleans()):
        exclusions.append(Exclusion("bots", Condition("is_bot", Operator.EQ, True)))
    if "orders" in names and draw(st.booleans()):
        exclusions.append(
            Exclusion("free", Condition("plan", Operator.EQ, "basic"), sources=("orders",))
        )
    text = any(term.column == "plan" and term.aggregate is Aggregate.LAST for term in terms)
    ttl = None
    if rules.ttl and draw(st.integers(0, 3)):
        ttl = Duration(draw(st.sampled_from((HOUR // 2, 6 * HOUR, DAY))))
    return FeatureDefinition(
        name=f"f{number}",
        version=Version(1, 0, 0),
        concept=f"f{number}",
        description="generated",
        owner="reference",
        entity="customer",
        value_type=ValueType.STRING if text else ValueType.FLOAT,
        window=Duration(draw(st.sampled_from(windows))),
        computation=WindowedAggregation(terms),
        exclusions=tuple(exclusions),
        ttl=ttl,
    )


@st.composite
def worlds(draw: st.DrawFn, rules: Rules) -> World:
    """A world whose events crowd the edges of its labels' windows."""
    windows = tuple(
        draw(
            st.lists(
                st.sampled_from((HOUR, 6 * HOUR, DAY, 2 * DAY)), min_size=1, max_size=2, unique=True
            )
        )
    )
    if rules.midnights:
        offsets, nudges = (-T0.hour * HOUR, DAY - T0.hour * HOUR, 3 * DAY - T0.hour * HOUR), [0]
    else:
        offsets, nudges = (0, HOUR, 90 * 60, DAY, 3 * DAY), [0, 1]
    anchors = [
        T0 + timedelta(seconds=s) + draw(st.sampled_from(nudges)) * MICRO
        for s in draw(st.lists(st.sampled_from(offsets), min_size=1, max_size=3, unique=True))
    ]
    ingestion = draw(st.sampled_from(((True, True), (True, False), (False, True), (False, False))))
    chosen = sources(*ingestion, integer_keys=rules.integer_keys)
    entities = ("1", "2", "30") if rules.integer_keys else ENTITIES
    events = {
        name: draw(_events(source, anchors, windows, rules, entities))
        for name, source in chosen.items()
    }
    definitions = [draw(_definition(n, windows, rules)) for n in range(draw(st.integers(1, 4)))]
    every = [(entity, t) for entity in (*entities, "nobody") for t in anchors]
    repeated = draw(st.lists(st.sampled_from(every), max_size=3))  # label rows may repeat
    labels = draw(st.permutations(every + repeated))
    return World(chosen, events, definitions, labels)
