"""`last` on every DuckDB path — the range join (as known at, a source with an ingestion time),
the ASOF JOIN and the running-last form written for Spark — keeps a NULL latest value and
breaks ties by the documented rule (docs/features.md, Ties): among the kept events of the
latest time, the one ingested last, then the greatest value, a NULL above every value."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Duration,
    FeatureDefinition,
    Source,
    SourceKind,
    Term,
    ValueType,
)
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.feature_sql import feature_sql
from tests.source_rows import feature_definition, write_source

T = datetime(2026, 3, 31, 12, 0, 0)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
TIE = T - DAY

PLANS = Source(
    name="plans",
    kind=SourceKind.PARQUET,
    location="data/plans",
    entity="customer",
    entity_key="customer_id",
    event_time="changed_at",
    ingestion_time="loaded_at",
    schema={
        "customer_id": ColumnType.STRING,
        "changed_at": ColumnType.TIMESTAMP,
        "loaded_at": ColumnType.TIMESTAMP,
        "plan": ColumnType.STRING,
    },
)
PLANS_UNTIMED = replace(PLANS, ingestion_time=None)
"""The same rows read without their ingestion time: ties go to the value alone."""

# (customer, event time, ingestion time, plan). Each tie appears twice, its rows in both
# orders ("r" customers reversed), so no engine passes by keeping the first or the last row.
_CASES: dict[str, list[tuple[datetime, datetime | None, str | None]]] = {
    "cleared": [(T - 2 * DAY, T - 2 * DAY, "basic"), (TIE, TIE, None)],
    "ingested": [(TIE, TIE, "pro"), (TIE, TIE + HOUR, "basic")],
    "greatest": [(TIE, TIE, "basic"), (TIE, TIE, "team"), (TIE, TIE, "pro")],
    "null-high": [(TIE, TIE, None), (TIE, TIE, "basic")],
    "ingested-null": [(TIE, TIE, "pro"), (TIE, TIE + HOUR, None)],
    "late": [(TIE, TIE, "pro"), (TIE, T + HOUR, "team")],
    "never-loaded": [(TIE, None, "zzz"), (TIE, T - 2 * DAY, "aaa")],
}
ROWS = [
    (customer + suffix, *row)
    for customer, rows in _CASES.items()
    for suffix, ordered in (("", rows), ("-r", rows[::-1]))
    for row in ordered
]

AS_KNOWN_AT = {
    "cleared": None,
    "ingested": "basic",
    "greatest": "team",
    "null-high": None,
    "ingested-null": None,
    "late": "pro",  # the later-ingested row is not known at T
    "never-loaded": "aaa",  # a NULL ingestion time never counts
}
WITH_INGESTION = AS_KNOWN_AT | {"late": "team", "never-loaded": "zzz"}  # NULL ranks highest
BY_VALUE = AS_KNOWN_AT | {
    "ingested": "pro",
    "ingested-null": None,
    "late": "team",
    "never-loaded": "zzz",
}


def plan_last(ttl: str | None = None) -> FeatureDefinition:
    return feature_definition(
        "plan_last",
        ValueType.STRING,
        Term("plans", Aggregate.LAST, column="plan"),
        concept="plan",
        ttl=Duration.parse(ttl, "ttl") if ttl else None,
    )


def write_plans(project: Path) -> None:
    write_source(project, PLANS, ROWS)


def spine() -> list[tuple[str, datetime]]:
    return sorted({(customer, T) for customer, *_ in ROWS})


def expected(values: dict[str, str | None]) -> dict[tuple[str, datetime], Any]:
    return {(customer, T): values[customer.removesuffix("-r")] for customer, _ in spine()}


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    write_plans(tmp_path)
    with DuckDBEngine(tmp_path) as engine:
        yield engine


def run(engine: DuckDBEngine, source: Source, *, as_known_at: bool, asof_join: bool) -> Any:
    """Every row of the feature query, through the form asked for."""
    engine.compute(plan_last(), {"plans": source}, spine())  # registers __lucid_spine
    query = feature_sql(
        plan_last(),
        {"plans": source},
        "__lucid_spine",
        engine.relation,
        as_known_at=as_known_at,
        asof_join=asof_join,
    )
    return engine.connection.execute(query).fetchall()


def test_the_range_join_keeps_a_null_latest_value_and_breaks_ties(engine: DuckDBEngine) -> None:
    rows = run(engine, PLANS, as_known_at=True, asof_join=True)
    assert {(e, t): v for e, t, v, _ in rows} == expected(AS_KNOWN_AT)
    assert {data_time for *_, data_time in rows} == {TIE}


@pytest.mark.parametrize("asof_join", [True, False], ids=["asof-join", "running-last"])
@pytest.mark.parametrize(
    ("source", "values"),
    [(PLANS, WITH_INGESTION), (PLANS_UNTIMED, BY_VALUE)],
    ids=["with-ingestion-time", "without"],
)
def test_the_snapshot_forms_keep_a_null_latest_value_and_break_ties(
    engine: DuckDBEngine, source: Source, values: dict[str, str | None], asof_join: bool
) -> None:
    rows = run(engine, source, as_known_at=False, asof_join=asof_join)
    assert {(e, t): v for e, t, v, _ in rows} == expected(values)
    assert {data_time for *_, data_time in rows} == {TIE}


def test_a_training_set_and_materialisation_keep_a_null_latest_value(
    engine: DuckDBEngine,
) -> None:
    labels = [{"customer": customer, "at": T} for customer, _ in spine()]
    rows = engine.training_set(
        labels, [plan_last()], {"plans": PLANS}, entity_column="customer", time_column="at"
    ).fetchall()
    assert {(c, t): v for c, t, v in rows} == expected(AS_KNOWN_AT)
    latest = engine.latest_values(plan_last(), {"plans": PLANS}, T).fetchall()
    assert {(e, t): v for e, t, v, _ in latest} == expected(AS_KNOWN_AT)
