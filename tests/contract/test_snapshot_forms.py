"""A snapshot (`aggregate: last`) term has one meaning and three SQL forms: DuckDB's ASOF JOIN,
the UNION ALL + running `LAST_VALUE ... IGNORE NULLS` written for Spark (which has no ASOF
JOIN), and that same text run on Spark. All three give the same value on every edge: an event
exactly at t counts, one a second later does not, the window's lower bound is open, the latest
event's NULL value stays NULL (no earlier value shows through), excluded rows, filtered rows and
events without key or time never match, entities without events get NULL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Condition,
    Duration,
    Exclusion,
    FeatureDefinition,
    Operator,
    Source,
    SourceKind,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
)
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.feature_sql import feature_sql
from lucid.engines.spark import SparkEngine

T = datetime(2026, 3, 31, 12, 0, 0)
DAY, SECOND = timedelta(days=1), timedelta(seconds=1)

SOURCE = Source(
    name="plans",
    kind=SourceKind.PARQUET,
    location="data/plans",
    entity="customer",
    entity_key="customer_id",
    event_time="changed_at",
    schema={
        "customer_id": ColumnType.INTEGER,
        "changed_at": ColumnType.TIMESTAMP,
        "plan": ColumnType.STRING,
        "is_test": ColumnType.BOOLEAN,
        "region": ColumnType.STRING,
    },
)

EVENTS: list[dict[str, Any]] = [
    {"customer_id": 1, "changed_at": T - 3 * DAY, "plan": "basic"},
    {"customer_id": 1, "changed_at": T, "plan": "pro"},  # exactly at t: counts
    {"customer_id": 1, "changed_at": T + SECOND, "plan": "team"},  # after t: never
    {"customer_id": 2, "changed_at": T - 10 * DAY, "plan": "basic"},  # window bound: open
    {"customer_id": 3, "changed_at": T - 2 * DAY, "plan": "pro"},
    {"customer_id": 3, "changed_at": T - DAY, "plan": None},  # latest is NULL: stays NULL
    {"customer_id": 4, "changed_at": T - DAY, "plan": "pro"},
    {"customer_id": 4, "changed_at": T - DAY / 2, "plan": "team", "is_test": True},  # excluded
    {"customer_id": 5, "changed_at": T - DAY, "plan": "pro", "region": "eu"},
    {"customer_id": 5, "changed_at": T - DAY / 2, "plan": "team", "region": "us"},  # filtered
    {"customer_id": None, "changed_at": T - DAY, "plan": "ghost"},  # no key: never
    {"customer_id": 6, "changed_at": None, "plan": "ghost"},  # no time: never
    {"customer_id": 6, "changed_at": T - 15 * DAY, "plan": "old"},  # inside at t - 10 d only
]


def definition() -> FeatureDefinition:
    return FeatureDefinition(
        name="plan_last",
        version=Version(1, 0, 0),
        concept="plan",
        description="d",
        owner="o",
        entity="customer",
        value_type=ValueType.STRING,
        window=Duration(10 * 86_400),
        exclusions=(Exclusion("tests", Condition("is_test", Operator.EQ, True)),),
        computation=WindowedAggregation(
            (
                Term(
                    "plans",
                    Aggregate.LAST,
                    column="plan",
                    filters=(Condition("region", Operator.NE, "us"),),
                ),
            )
        ),
    )


def spine() -> list[tuple[str, datetime]]:
    moments = (T, T - DAY, T + 5 * DAY, T - 10 * DAY + SECOND)
    return [(str(entity), moment) for entity in range(1, 8) for moment in moments]


def write_plans(project: Path) -> None:
    """The events as the Parquet source both engines read."""
    folder = project / "data" / "plans"
    folder.mkdir(parents=True)
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE plans (customer_id BIGINT, changed_at TIMESTAMP, plan VARCHAR, "
        "is_test BOOLEAN, region VARCHAR)"
    )
    connection.executemany(
        "INSERT INTO plans VALUES (?, ?, ?, ?, ?)",
        [
            (e["customer_id"], e["changed_at"], e["plan"], e.get("is_test", False), e["region"])
            for e in ({"region": "eu", **event} for event in EVENTS)
        ],
    )
    connection.execute(f"COPY plans TO '{folder / 'part-0.parquet'}'")
    connection.close()


def expected() -> dict[tuple[str, datetime], Any]:
    """The values worked out by hand from the rules."""
    values: dict[tuple[str, datetime], Any] = {key: None for key in spine()}
    values |= {
        ("1", T): "pro",
        ("1", T - DAY): "basic",
        ("1", T + 5 * DAY): "team",
        ("3", T): None,
        ("3", T - DAY): None,
        ("3", T - DAY - SECOND): None,
        ("4", T): "pro",
        ("4", T - DAY): "pro",
        ("4", T + 5 * DAY): "pro",
        ("5", T): "pro",
        ("5", T - DAY): "pro",
        ("5", T + 5 * DAY): "pro",
    }
    # customer 2's only event is exactly 10 days before T: outside at T, inside a second later
    values[("2", T - DAY)] = "basic"
    values[("2", T - 10 * DAY + SECOND)] = "basic"
    # customer 1 at T + 5 days: the event of T + 1 s, within 10 days
    values[("1", T - 10 * DAY + SECOND)] = None
    values[("3", T - 10 * DAY + SECOND)] = None
    values[("6", T - 10 * DAY + SECOND)] = "old"
    values[("6", T - DAY)] = None
    return {key: value for key, value in values.items() if key in set(spine())}


def duckdb_values(engine: DuckDBEngine, *, asof_join: bool) -> dict[tuple[str, datetime], Any]:
    engine.compute(definition(), {"plans": SOURCE}, spine())  # registers __lucid_spine
    query = feature_sql(
        definition(), {"plans": SOURCE}, "__lucid_spine", engine.relation, asof_join=asof_join
    )
    return {(e, t): v for e, t, v, _ in engine.connection.execute(query).fetchall()}


@pytest.mark.parametrize("asof_join", [True, False], ids=["asof-join", "running-last"])
def test_both_forms_give_the_hand_worked_values_on_duckdb(tmp_path: Path, asof_join: bool) -> None:
    write_plans(tmp_path)
    with DuckDBEngine(tmp_path) as engine:
        assert duckdb_values(engine, asof_join=asof_join) == expected()


def test_the_running_last_form_on_spark_gives_the_same_values(tmp_path: Path, spark: Any) -> None:
    write_plans(tmp_path)
    found = SparkEngine(tmp_path, spark).compute(definition(), {"plans": SOURCE}, spine())
    assert found == expected()
    assert sum(value is not None for value in found.values()) >= 10
