"""A DuckDB training set's `last` features, joined to the label rows in one ASOF JOIN per source
and kept rows, equal the per-feature query (`feature_sql`, what `compute` and `show --sql`
run) on tricky data: ties whose winner differs per column, a NULL among tied values, entities
without history, values older than the window or the TTL, events at the label time and one
second after it, a filter splitting one source into two groups, integer ids given as integers
and as text, and duplicate label rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Condition,
    Duration,
    FeatureDefinition,
    Normaliser,
    NormaliserKind,
    Operator,
    Source,
    SourceKind,
    Term,
    ValueType,
)
from lucid.engines.duckdb import DuckDBEngine
from tests.source_rows import feature_definition, write_source

T = datetime(2026, 3, 31, 12, 0, 0)
DAY, SECOND = timedelta(days=1), timedelta(seconds=1)
TIE = T - DAY

ACCOUNTS = Source(
    name="accounts",
    kind=SourceKind.PARQUET,
    location="data/accounts",
    entity="customer",
    entity_key="customer_id",
    event_time="changed_at",
    schema={
        "customer_id": ColumnType.INTEGER,
        "changed_at": ColumnType.TIMESTAMP,
        "plan": ColumnType.STRING,
        "seats": ColumnType.INTEGER,
        "active": ColumnType.BOOLEAN,
        "is_test": ColumnType.BOOLEAN,
    },
)
# (customer, event time, plan, seats, active, is_test); customer 2 holds customer 1's tie in
# the reverse order, so that keeping the first or the last row of a tie cannot pass.
_TIE = [
    (TIE, "basic", 5, True, False),
    (TIE, "pro", None, False, False),
    (TIE, "enterprise", 3, False, True),  # a test row: the paid group never sees it
    (T - 3 * DAY, "team", 9, True, False),
]
ROWS = [
    *[(1, *row) for row in _TIE],
    *[(2, *row) for row in reversed(_TIE)],
    (3, T - 40 * DAY, "team", 7, True, False),  # the latest is older than the window
    (4, T, "pro", 2, True, False),  # at the label time: counts
    (4, T + SECOND, "team", 8, False, False),  # one second after it: never counts
    (4, T - 5 * DAY, "basic", 1, False, False),  # older than the TTL of 2 days
    (5, T - 30 * DAY, "pro", 4, True, False),  # exactly 30 days before: just outside
    (7, T - 2 * DAY, "basic", 6, True, False),
    (7, T - DAY, "pro", 6, True, True),  # latest, but a test row
    (None, TIE, "pro", 1, True, False),  # no key: never matches
]


def _last(column: str, **fields: Any) -> Term:
    return Term("accounts", Aggregate.LAST, column=column, **fields)


PAID = (Condition("is_test", Operator.EQ, False),)
FEATURES = [
    feature_definition("plan_last", ValueType.STRING, _last("plan")),
    feature_definition("seats_last", ValueType.INTEGER, _last("seats")),
    feature_definition("active_last", ValueType.BOOLEAN, _last("active")),
    feature_definition(
        "plan_fresh", ValueType.STRING, _last("plan"), ttl=Duration.parse("2d", "ttl")
    ),
    feature_definition("plan_week", ValueType.STRING, _last("plan"), window="7d"),
    feature_definition("paid_plan_last", ValueType.STRING, _last("plan", filters=PAID)),
    feature_definition(
        "seats_share",
        ValueType.FLOAT,
        _last("seats", normalise=Normaliser(NormaliserKind.CAP, 10), weight=0.5),
    ),
    feature_definition("changes_30d", ValueType.INTEGER, Term("accounts", Aggregate.COUNT)),
]
ENTITIES = [1, 2, 3, 4, 5, 6, 7, 1]  # 6 has no history; 1 twice: a duplicate label row


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    write_source(tmp_path, ACCOUNTS, ROWS)
    with DuckDBEngine(tmp_path) as engine:
        yield engine


def per_feature(
    engine: DuckDBEngine, definition: FeatureDefinition, entities: list[int] = ENTITIES
) -> list[Any]:
    """The feature for each label row through the per-feature query over a spine."""
    values = engine.compute(
        definition,
        {"accounts": ACCOUNTS},
        [(entity, T) for entity in entities],
        as_known_at=True,
    )
    return [values[(str(entity), T)] for entity in entities]


def stages(engine: DuckDBEngine, kind: str = "snapshots") -> int:
    """The snapshot stages a training set joined (one per source and kept rows), or with
    `kind="settled"` those that settled a tie, or with `kind="times"` the ASOF JOINs' tables
    still held."""
    [(count,)] = engine.connection.execute(
        f"SELECT COUNT(*) FROM duckdb_tables() WHERE table_name LIKE '__lucid_{kind}_%'"
    ).fetchall()
    return int(count)


@pytest.mark.parametrize("given", [int, str], ids=["integer ids", "ids as text"])
def test_the_grouped_join_equals_the_per_feature_query(engine: DuckDBEngine, given: Any) -> None:
    labels = [{"row": n, "customer": given(e), "at": T} for n, e in enumerate(ENTITIES)]
    result = engine.training_set(
        labels, FEATURES, {"accounts": ACCOUNTS}, entity_column="customer", time_column="at"
    )
    rows = result.to_dicts()
    assert [row["row"] for row in rows] == list(range(len(ENTITIES)))  # every row, in order
    assert stages(engine) == 2  # one per source and kept rows: every row, the paid rows
    assert stages(engine, "settled") == 2  # both hold a tie
    for definition in FEATURES:
        found = [row[definition.name] for row in rows]
        assert found == per_feature(engine, definition), definition.name
    by_name = {name: [row[name] for row in rows] for name in rows[0]}
    # The tie of customers 1 and 2, settled per column: the greatest plan, a NULL above every
    # seat count, the greatest flag; the paid group leaves the test row out.
    assert by_name["plan_last"] == ["pro", "pro", None, "pro", None, None, "pro", "pro"]
    assert by_name["seats_last"][:2] == [None, None]
    assert by_name["active_last"][:2] == [True, True]
    assert by_name["paid_plan_last"] == ["pro", "pro", None, "pro", None, None, "basic", "pro"]
    assert by_name["plan_fresh"][3] == "pro"  # the event at T, fresh
    assert by_name["plan_week"][2] is None  # 40 days old
    assert by_name["seats_share"][3] == pytest.approx(0.5 * 2 / 10)
    assert by_name["changes_30d"][:4] == [4, 4, 0, 2]


@pytest.mark.parametrize("given", [int, str], ids=["integer ids", "ids as text"])
def test_without_ties_each_label_row_keeps_its_one_event(engine: DuckDBEngine, given: Any) -> None:
    """Label rows whose latest instants hold one event each: the stages are read as they are,
    with the same values."""
    entities = [3, 4, 5, 6, 7, 4]
    labels = [{"customer": given(e), "at": T} for e in entities]
    result = engine.training_set(
        labels, FEATURES, {"accounts": ACCOUNTS}, entity_column="customer", time_column="at"
    )
    rows = result.to_dicts()
    assert stages(engine) == 2 and stages(engine, "settled") == 0
    assert stages(engine, "times") == 0  # each ASOF JOIN's table dropped once joined on
    assert [row["customer"] for row in rows] == [given(e) for e in entities]
    for definition in FEATURES:
        found = [row[definition.name] for row in rows]
        assert found == per_feature(engine, definition, entities), definition.name
    assert [row["plan_last"] for row in rows] == [None, "pro", None, None, "pro", "pro"]


def test_a_ttl_older_than_the_latest_value_empties_it(engine: DuckDBEngine) -> None:
    """Customer 7's latest paid plan is 2 days old: fresh under a TTL of 2 days, stale under
    one day, on both forms."""
    one_day = replace(FEATURES[5], name="paid_plan_1d", ttl=Duration.parse("1d", "ttl"))
    two_days = replace(FEATURES[5], name="paid_plan_2d", ttl=Duration.parse("2d", "ttl"))
    labels = [{"customer": e, "at": T} for e in ENTITIES]
    rows = engine.training_set(
        labels,
        [one_day, two_days],
        {"accounts": ACCOUNTS},
        entity_column="customer",
        time_column="at",
    ).to_dicts()
    assert rows[6]["paid_plan_1d"] is None and rows[6]["paid_plan_2d"] == "basic"
    for definition in (one_day, two_days):
        assert [row[definition.name] for row in rows] == per_feature(engine, definition)
