"""The seed's customer_activity_30d compiled to SQL and run on DuckDB over hand-made events."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from lucid.contracts.semantic import (
    Aggregate,
    Condition,
    Duration,
    Exclusion,
    FeatureDefinition,
    Normaliser,
    NormaliserKind,
    Operator,
    SqlAggregate,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
)
from lucid.engines.dialects import to_dialect
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS

FIXTURE = CANONICAL_DEFINITIONS
T = datetime(2026, 3, 31, 12, 0, 0)


def sdk_definition() -> FeatureDefinition:
    """The same definition as the YAML fixture, written with the SDK."""
    return FeatureDefinition(
        name="customer_activity_30d",
        version=Version(1, 0, 0),
        concept="customer_activity",
        description="written in Python: text fields do not change the fingerprint",
        owner="data-platform",
        entity="customer",
        value_type=ValueType.FLOAT,
        window=Duration.parse("30d", "window"),
        required_approvals=("marketing", "data-science", "product"),
        exclusions=(
            Exclusion("test_transactions", Condition("is_test", Operator.EQ, True), ("purchases",)),
            Exclusion("bot_activity", Condition("is_bot", Operator.EQ, True)),
        ),
        computation=WindowedAggregation(
            (
                Term(
                    "logins",
                    Aggregate.COUNT,
                    normalise=Normaliser(NormaliserKind.CAP, 20),
                    weight=0.3,
                ),
                Term(
                    "purchases",
                    Aggregate.COUNT,
                    normalise=Normaliser(NormaliserKind.CAP, 10),
                    weight=0.7,
                ),
            )
        ),
    )


def write_events(project: Path) -> None:
    """Purchases and logins with every edge the definition must get right."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    day, second = timedelta(days=1), timedelta(seconds=1)
    purchases = [
        # customer, time, amount, bot, test
        ("alice", T - day, 20.0, False, False),
        ("alice", T - 10 * day, 35.0, False, False),
        ("alice", T, 5.0, False, False),  # exactly at t: counts
        ("alice", T + second, 99.0, False, False),  # one second after t: must not count
        ("alice", T - 30 * day, 12.0, False, False),  # exactly 30 days before: outside
        ("alice", T - 2 * day, 50.0, True, False),  # bot: excluded
        ("alice", T - 3 * day, 1.0, False, True),  # test transaction: excluded
        ("bob", T - 29 * day, 10.0, False, False),
        *[("carol", T - n * day, 1.0, False, False) for n in range(1, 15)],  # 14 > cap 10
    ]
    logins = [
        ("alice", T - day, False),
        ("alice", T - 4 * day, False),
        ("alice", T - 5 * day, True),  # bot login: excluded
        ("alice", T + second, False),  # after t: must not count
        ("bob", T - 31 * day, False),  # outside the window
        *[("carol", T - n * timedelta(hours=12), False) for n in range(1, 6)],
    ]
    for folder in ("purchases", "logins"):
        (project / "data" / folder).mkdir(parents=True)
    connection.execute(
        "CREATE TABLE p (customer_id VARCHAR, purchased_at TIMESTAMP, ingested_at TIMESTAMP, "
        "amount DOUBLE, is_bot BOOLEAN, is_test BOOLEAN)"
    )
    connection.executemany(
        "INSERT INTO p VALUES (?, ?, ?, ?, ?, ?)",
        [(c, t, t, a, b, x) for c, t, a, b, x in purchases],
    )
    connection.execute(
        "CREATE TABLE l (customer_id VARCHAR, logged_in_at TIMESTAMP, ingested_at TIMESTAMP, "
        "is_bot BOOLEAN)"
    )
    connection.executemany(
        "INSERT INTO l VALUES (?, ?, ?, ?)", [(c, t, t, b) for c, t, b in logins]
    )
    connection.execute(f"COPY p TO '{project / 'data' / 'purchases' / 'part-0.parquet'}'")
    connection.execute(f"COPY l TO '{project / 'data' / 'logins' / 'part-0.parquet'}'")


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    write_events(tmp_path)
    return DuckDBEngine(tmp_path)


def test_yaml_and_sdk_give_the_same_fingerprint() -> None:
    [from_yaml] = load_definitions(FIXTURE).features
    assert from_yaml.fingerprint == sdk_definition().fingerprint
    assert from_yaml.description != sdk_definition().description


def test_customer_activity_30d_matches_hand_computed_values(engine: DuckDBEngine) -> None:
    definitions = load_definitions(FIXTURE)
    sources = {source.name: source for source in definitions.sources}
    spine = [("alice", T), ("bob", T), ("carol", T), ("dave", T)]
    values = engine.compute(definitions.features[0], sources, spine)
    # alice: purchases at t-1d, t-10d, t → 3 (bot, test, t+1s and t-30d excluded);
    #        logins at t-1d, t-4d → 2 (bot and t+1s excluded)
    assert values[("alice", T)] == pytest.approx(0.7 * 3 / 10 + 0.3 * 2 / 20)
    # bob: one purchase at t-29d; his only login is 31 days old
    assert values[("bob", T)] == pytest.approx(0.7 * 1 / 10)
    # carol: 14 purchases capped at 10; 5 logins
    assert values[("carol", T)] == pytest.approx(0.7 * 1.0 + 0.3 * 5 / 20)
    # dave has no events at all: zero activity, not missing
    assert values[("dave", T)] == 0.0


def test_the_same_entity_at_two_times_sees_two_windows(engine: DuckDBEngine) -> None:
    definitions = load_definitions(FIXTURE)
    sources = {source.name: source for source in definitions.sources}
    earlier = T - timedelta(days=5)
    values = engine.compute(definitions.features[0], sources, [("alice", T), ("alice", earlier)])
    # five days earlier alice had only the t-10d purchase (t-30d is in, at t-35d it is out)
    assert values[("alice", earlier)] == pytest.approx(0.7 * 2 / 10)


def test_a_sql_aggregate_runs_inside_the_window_and_exclusions(engine: DuckDBEngine) -> None:
    definitions = load_definitions(FIXTURE)
    sources = {source.name: source for source in definitions.sources}
    spend = FeatureDefinition(
        name="customer_spend_30d",
        version=Version(1, 0, 0),
        concept="customer_spend",
        description="Paid amount over 30 days",
        owner="finance",
        entity="customer",
        value_type=ValueType.FLOAT,
        window=Duration(30 * 86_400),
        exclusions=(Exclusion("tests", Condition("is_test", Operator.EQ, True)),),
        computation=SqlAggregate("purchases", "COALESCE(SUM(amount) FILTER (WHERE NOT is_bot), 0)"),
    )
    values = engine.compute(spend, sources, [("alice", T), ("dave", T)])
    assert values[("alice", T)] == pytest.approx(20.0 + 35.0 + 5.0)
    assert values[("dave", T)] == 0.0


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SUM(amount", "is not valid SQL"),
        ("amount * 2", "must aggregate"),
        ("SUM(price)", "uses column price"),
        ("(SELECT MAX(amount) FROM purchases)", "may not contain a subquery"),
    ],
)
def test_bad_sql_aggregates_are_refused(
    engine: DuckDBEngine, expression: str, message: str
) -> None:
    definitions = load_definitions(FIXTURE)
    sources = {source.name: source for source in definitions.sources}
    bad = FeatureDefinition(
        name="bad",
        version=Version(1, 0, 0),
        concept="bad",
        description="d",
        owner="o",
        entity="customer",
        value_type=ValueType.FLOAT,
        window=Duration(86_400),
        computation=SqlAggregate("purchases", expression),
    )
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.compute(bad, sources, [("alice", T)])


def test_as_known_at_leaves_out_late_rows(tmp_path: Path) -> None:
    write_events(tmp_path)
    definitions = load_definitions(FIXTURE)
    sources = {source.name: source for source in definitions.sources}
    engine = DuckDBEngine(tmp_path)
    known = engine.compute(definitions.features[0], sources, [("alice", T)], as_known_at=True)
    plain = engine.compute(definitions.features[0], sources, [("alice", T)])
    assert known == plain  # every row here was ingested at its event time


def test_the_query_transpiles_to_spark() -> None:
    definitions = load_definitions(FIXTURE)
    sources = {source.name: source for source in definitions.sources}
    from lucid.engines.feature_sql import feature_sql

    sql = feature_sql(definitions.features[0], sources, "spine", lambda s: f"src_{s.name}")
    spark = to_dialect(sql, "spark")
    assert "INTERVAL" in spark and "src_purchases" in spark and "CASE WHEN" in spark
