"""Data time and TTL offline (docs/features.md "Data time and TTL"): the feature query's data
time is the event time of the latest event behind the value, as known at the time; with a TTL
the value is NULL once `as_of - data_time > ttl` (exactly `ttl` old is fresh) and for an empty
window — in `compute`, training sets and `latest_values` alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Duration,
    FeatureDefinition,
    Source,
    SourceKind,
    SqlAggregate,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
)
from lucid.engines.duckdb import DuckDBEngine

T = datetime(2026, 3, 31, 12, 0, 0)
DAY, SECOND, HOUR = timedelta(days=1), timedelta(seconds=1), timedelta(hours=1)


def source(name: str, value: ColumnType = ColumnType.DOUBLE) -> Source:
    return Source(
        name=name,
        kind=SourceKind.PARQUET,
        location=f"data/{name}.parquet",
        entity="customer",
        entity_key="customer_id",
        event_time="happened_at",
        ingestion_time="loaded_at",
        schema={
            "customer_id": ColumnType.STRING,
            "happened_at": ColumnType.TIMESTAMP,
            "loaded_at": ColumnType.TIMESTAMP,
            "value": value,
        },
    )


SOURCES = {"purchases": source("purchases"), "logins": source("logins")}

PURCHASES = [
    ("a", T - 2 * DAY, T - 2 * DAY, 5.0),  # exactly 2 days old at T: fresh under a 2d TTL
    ("a", T - 20 * DAY, T - 20 * DAY, 7.0),
    ("b", T - 2 * DAY - SECOND, T - 2 * DAY - SECOND, 3.0),  # a second older: stale
    ("d", T - DAY, T + HOUR, 4.0),  # not known at T: the data time is the older event's
    ("d", T - 5 * DAY, T - 5 * DAY, 6.0),
    ("e", T - 40 * DAY, T - 40 * DAY, 9.0),  # outside the window: an empty window
    ("f", T - DAY, T - DAY, None),  # the latest kept event, its amount NULL
    ("f", T - 3 * DAY, T - 3 * DAY, 2.0),
]
LOGINS = [
    ("a", T - 5 * DAY, T - 5 * DAY, None),
    ("c", T - HOUR, T - HOUR, None),  # c buys nothing, logs in an hour before T
]


def definition(
    name: str,
    terms: tuple[Term, ...] | SqlAggregate,
    *,
    ttl: str | None = "2d",
    value_type: ValueType = ValueType.FLOAT,
) -> FeatureDefinition:
    return FeatureDefinition(
        name=name,
        version=Version(1, 0, 0),
        concept=name,
        description="d",
        owner="o",
        entity="customer",
        value_type=value_type,
        window=Duration(30 * 86_400),
        ttl=Duration.parse(ttl, "ttl") if ttl else None,
        computation=terms if isinstance(terms, SqlAggregate) else WindowedAggregation(terms),
    )


COUNT = (Term("purchases", Aggregate.COUNT),)
BOTH = (Term("purchases", Aggregate.COUNT), Term("logins", Aggregate.COUNT))


def write(project: Path, name: str, rows: list[tuple[Any, ...]]) -> None:
    (project / "data").mkdir(exist_ok=True)
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE t (customer_id VARCHAR, happened_at TIMESTAMP, loaded_at TIMESTAMP, "
        "value DOUBLE)"
    )
    connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    connection.execute(f"COPY t TO '{project / 'data' / name}.parquet'")
    connection.close()


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    write(tmp_path, "purchases", PURCHASES)
    write(tmp_path, "logins", LOGINS)
    with DuckDBEngine(tmp_path) as engine:
        yield engine


CUSTOMERS = ("a", "b", "c", "d", "e", "f")


def computed(engine: DuckDBEngine, feature: FeatureDefinition, **kwargs: Any) -> dict[str, Any]:
    values = engine.compute(feature, SOURCES, [(c, T) for c in CUSTOMERS], **kwargs)
    return {customer: values[(customer, T)] for customer in CUSTOMERS}


def test_a_ttl_blanks_stale_values_and_empty_windows(engine: DuckDBEngine) -> None:
    # Without a TTL every value stands, and an empty window counts 0.
    plain = computed(engine, definition("count", COUNT, ttl=None), as_known_at=True)
    assert plain == {"a": 2, "b": 1, "c": 0, "d": 1, "e": 0, "f": 2}
    found = computed(engine, definition("count", COUNT), as_known_at=True)
    # a: exactly 2 days old, fresh; b: a second older; c, e: nothing in the window; d: the
    # event of T - 1 d is not known at T, the one behind the value is 5 days old.
    assert found == {"a": 2, "b": None, "c": None, "d": None, "e": None, "f": 2}
    # Read without as-known-at, d's latest event is the day-old one: fresh.
    assert computed(engine, definition("count", COUNT))["d"] == 2


def test_several_terms_take_the_latest_data_time(engine: DuckDBEngine) -> None:
    found = computed(engine, definition("both", BOTH), as_known_at=True)
    # c has no purchase but logged in an hour ago: the value (0 + 1) is fresh.
    assert found == {"a": 3, "b": None, "c": 1, "d": None, "e": None, "f": 2}


def test_latest_values_give_the_data_time_behind_each_value(engine: DuckDBEngine) -> None:
    features = {
        "count": definition("count", COUNT),
        "avg": definition("avg", (Term("purchases", Aggregate.AVG, column="value"),), ttl=None),
        "last": definition("last", (Term("purchases", Aggregate.LAST, column="value"),)),
        "both": definition("both", BOTH, ttl=None),
        "sql": definition("sql", SqlAggregate("purchases", "SUM(value)"), ttl=None),
    }
    found = {
        name: {e: (v, d) for e, _, v, d in engine.latest_values(f, SOURCES, T).fetchall()}
        for name, f in features.items()
    }
    stale = {"b": (None, T - 2 * DAY - SECOND), "d": (None, T - 5 * DAY), "e": (None, None)}
    # c is no entity of the purchases source, the only source of count
    assert found["count"] == {"a": (2, T - 2 * DAY), "f": (2, T - DAY)} | stale
    # f's latest kept event has a NULL amount: it is still the latest event behind the value.
    assert found["avg"]["f"] == (2.0, T - DAY)
    assert found["last"]["f"] == (None, T - DAY)  # the NULL of the latest event, fresh
    assert found["last"]["a"] == (5.0, T - 2 * DAY)
    assert found["both"]["a"] == (3, T - 2 * DAY) and found["both"]["c"] == (1, T - HOUR)
    assert found["sql"]["d"] == (6.0, T - 5 * DAY) and found["sql"]["e"] == (None, None)


def test_a_training_set_blanks_what_is_stale_at_each_label_time(engine: DuckDBEngine) -> None:
    labels = [
        {"customer": "a", "at": T},
        {"customer": "a", "at": T + SECOND},  # the same data, one second too old
        {"customer": "c", "at": T},
        {"customer": "d", "at": T + 2 * HOUR},  # the late row is known by now: fresh
        {"customer": "e", "at": T - 39 * DAY},  # e's event is a day old then
    ]
    rows = engine.training_set(
        labels,
        [definition("count", COUNT), definition("plain", COUNT, ttl=None)],
        SOURCES,
        entity_column="customer",
        time_column="at",
    ).fetchall()
    assert [row[2:] for row in rows] == [(2, 2), (None, 2), (None, 0), (2, 2), (1, 1)]


def test_a_snapshot_older_than_its_ttl_is_stale(tmp_path: Path) -> None:
    """A plan set 60 days ago, inside a 90-day window, with a 1-day TTL."""
    write(tmp_path, "purchases", [("a", T - 60 * DAY, T - 60 * DAY, 1.0), ("b", T - DAY, T, 2.0)])
    write(tmp_path, "logins", LOGINS)
    last = FeatureDefinition(
        **{
            **{f: getattr(definition("x", COUNT), f) for f in ("version", "description", "owner")},
            "name": "plan",
            "concept": "plan",
            "entity": "customer",
            "value_type": ValueType.FLOAT,
            "window": Duration(90 * 86_400),
            "ttl": Duration(86_400),
            "computation": WindowedAggregation((Term("purchases", Aggregate.LAST, "value"),)),
        }
    )
    with DuckDBEngine(tmp_path) as engine:
        for as_known_at in (False, True):  # the ASOF join and the range join
            values = engine.compute(last, SOURCES, [("a", T), ("b", T)], as_known_at=as_known_at)
            assert values == {("a", T): None, ("b", T): 2.0}
