"""Point-in-time training sets on DuckDB, checked against hand-computed values."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from lucid.contracts.semantic import FeatureDefinition, Source
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS

T = datetime(2026, 3, 31, 12, 0, 0)
DAY, SECOND = timedelta(days=1), timedelta(seconds=1)


@pytest.fixture
def world(tmp_path: Path) -> tuple[DuckDBEngine, FeatureDefinition, dict[str, Source]]:
    """alice's purchases with every point-in-time trap; logins left empty."""
    purchases = [
        # customer, event time, ingestion time
        ("alice", T - 2 * DAY, T - 2 * DAY),  # counts at T
        ("alice", T - 5 * DAY, T + DAY),  # in the window, ingested after T: a late backfill
        ("alice", T + SECOND, T + SECOND),  # after T: never counts at T
        ("alice", T - 30 * DAY, T - 30 * DAY),  # exactly 30 days before T: just outside
        ("alice", T - 30 * DAY + SECOND, T - 30 * DAY + SECOND),  # just inside
    ]
    connection = duckdb.connect()
    for name in ("purchases", "logins"):
        (tmp_path / "data" / name).mkdir(parents=True)
    connection.execute(
        "CREATE TABLE p AS SELECT * FROM (VALUES (NULL::VARCHAR, NULL::TIMESTAMP, "
        "NULL::TIMESTAMP, 1.0::DOUBLE, FALSE, FALSE)) v(customer_id, purchased_at, ingested_at, "
        "amount, is_bot, is_test) WHERE FALSE"
    )
    connection.executemany(
        "INSERT INTO p VALUES (?, ?, ?, 1.0, FALSE, FALSE)", [list(row) for row in purchases]
    )
    connection.execute(
        "CREATE TABLE l (customer_id VARCHAR, logged_in_at TIMESTAMP, ingested_at TIMESTAMP, "
        "is_bot BOOLEAN)"
    )
    connection.execute(f"COPY p TO '{tmp_path / 'data' / 'purchases' / 'p.parquet'}'")
    connection.execute(f"COPY l TO '{tmp_path / 'data' / 'logins' / 'l.parquet'}'")
    definitions = load_definitions(CANONICAL_DEFINITIONS)
    sources = {source.name: source for source in definitions.sources}
    return DuckDBEngine(tmp_path), definitions.features[0], sources


def purchases_share(count: int) -> float:
    return pytest.approx(0.7 * count / 10)


def test_each_label_sees_only_what_was_known_at_its_time(world) -> None:
    engine, feature, sources = world
    labels = [
        {"customer": "alice", "at": T, "churned": 0},
        {"customer": "alice", "at": T, "churned": 1},  # a duplicate label row stays a row
        {"customer": "alice", "at": T + 2 * DAY, "churned": 0},
        {"customer": "nobody", "at": T, "churned": 1},  # no history at all
    ]
    result = engine.training_set(
        labels, [feature], sources, entity_column="customer", time_column="at"
    )
    rows = result.to_dicts()
    assert [row["churned"] for row in rows] == [0, 1, 0, 1]
    # At T: the purchase 2 days before and the one just inside the window (the late backfill,
    # the future one and the one exactly 30 days before are out).
    assert rows[0]["customer_activity_30d"] == purchases_share(2)
    assert rows[1]["customer_activity_30d"] == purchases_share(2)
    # Two days later the backfill is known and the future purchase has happened; the one just
    # inside the window at T has left it.
    assert rows[2]["customer_activity_30d"] == purchases_share(3)
    assert rows[3]["customer_activity_30d"] == 0.0
    assert result.columns == ["customer", "at", "churned", "customer_activity_30d"]


def test_a_training_set_from_a_parquet_file(world, tmp_path: Path) -> None:
    engine, feature, sources = world
    labels = tmp_path / "labels.parquet"
    duckdb.execute(
        f"COPY (SELECT 'alice' AS entity_id, TIMESTAMP '{T}' AS timestamp, 1 AS y) TO '{labels}'"
    )
    result = engine.training_set(
        labels, [feature], sources, entity_column="entity_id", time_column="timestamp"
    )
    assert result.fetchall() == [("alice", T, 1, purchases_share(2))]
    out = tmp_path / "train.parquet"
    assert result.to_parquet(out) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entity_column": "who"}, "entity_column: 'who' is not a column of the labels"),
        ({"time_column": "when"}, "time_column: 'when' is not a column of the labels"),
    ],
)
def test_label_columns_are_checked(world, kwargs: dict[str, str], message: str) -> None:
    engine, feature, sources = world
    arguments = {"entity_column": "customer", "time_column": "at", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        engine.training_set([{"customer": "alice", "at": T}], [feature], sources, **arguments)


def test_a_feature_asked_twice_is_refused(world) -> None:
    engine, feature, sources = world
    with pytest.raises(InvalidInput, match="would appear twice"):
        engine.training_set(
            [{"customer": "alice", "at": T}],
            [feature, feature],
            sources,
            entity_column="customer",
            time_column="at",
        )
    with pytest.raises(InvalidInput, match="labels: must hold at least one row"):
        engine.training_set([], [feature], sources, entity_column="customer", time_column="at")
