"""The same definitions give the same values on DuckDB and on Spark (local[2]): the seed's
canonical feature with its traps, a SQL aggregate, a snapshot (`last`) feature, as-known-at
reads, every golden example, a NULL latest value and ties in `last`, data time and TTL, and
the spine of a listing source."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from lucid.contracts.semantic import (
    Aggregate,
    Duration,
    FeatureDefinition,
    SqlAggregate,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
    values_match,
)
from lucid.engines.duckdb import DuckDBEngine, naive_utc
from lucid.engines.spark import SparkEngine
from lucid.features.definition_files import load_definitions
from lucid.features.examples import example_time
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from tests.unit import test_data_time_and_ttl as ttl
from tests.unit import test_last_value as last_value
from tests.unit import test_latest_values as listing
from tests.unit.test_feature_sql import T, write_events

TOLERANCE = 1e-12


def definitions() -> list[FeatureDefinition]:
    canonical = load_definitions(CANONICAL_DEFINITIONS).features[0]
    common: dict[str, Any] = {
        "version": Version(1, 0, 0),
        "description": "d",
        "owner": "o",
        "entity": "customer",
        "window": Duration(30 * 86_400),
    }
    return [
        canonical,
        FeatureDefinition(
            name="spend",
            concept="spend",
            value_type=ValueType.FLOAT,
            computation=SqlAggregate("purchases", "COALESCE(SUM(amount), 0)"),
            **common,
        ),
        FeatureDefinition(
            name="last_amount",
            concept="last_amount",
            value_type=ValueType.FLOAT,
            computation=WindowedAggregation((Term("purchases", Aggregate.LAST, column="amount"),)),
            **common,
        ),
    ]


def spine() -> list[tuple[str, Any]]:
    return [
        (entity, T + offset)
        for entity in ("alice", "bob", "carol", "dave")
        for offset in (timedelta(0), timedelta(days=-5), timedelta(days=3, seconds=1))
    ]


@pytest.mark.parametrize("as_known_at", [False, True])
@pytest.mark.parametrize("definition", definitions(), ids=lambda d: d.name)
def test_duckdb_and_spark_agree(
    tmp_path: Path, spark: Any, definition: FeatureDefinition, as_known_at: bool
) -> None:
    write_events(tmp_path)
    sources = {s.name: s for s in load_definitions(CANONICAL_DEFINITIONS).sources}
    with DuckDBEngine(tmp_path) as duck:
        expected = duck.compute(definition, sources, spine(), as_known_at=as_known_at)
    found = SparkEngine(tmp_path, spark).compute(
        definition, sources, spine(), as_known_at=as_known_at
    )
    assert set(found) == set(expected)
    for key, value in expected.items():
        if value is None:
            assert found[key] is None, key
        else:
            assert found[key] == pytest.approx(value, abs=TOLERANCE), key
    assert any(value for value in expected.values())  # the comparison is not of empties


def test_golden_examples_hold_on_spark(tmp_path: Path, spark: Any) -> None:
    loaded = load_definitions(CANONICAL_DEFINITIONS)
    [definition] = loaded.features
    sources = {s.name: s for s in loaded.sources}
    for example in definition.examples:
        engine = SparkEngine(tmp_path, spark)
        for name in definition.sources:
            engine.load_rows(sources[name], example.events.get(name, ()))
        at = example_time(example.at, "at")
        values = engine.compute(definition, sources, [(example.entity, at)], as_known_at=True)
        assert values_match(example.expected, values[(example.entity, naive_utc(at))]), (
            example.description
        )


def test_training_sets_agree(tmp_path: Path, spark: Any) -> None:
    write_events(tmp_path)
    loaded = load_definitions(CANONICAL_DEFINITIONS)
    sources = {s.name: s for s in loaded.sources}
    labels = [
        {"customer": entity, "at": moment, "churned": number % 2}
        for number, (entity, moment) in enumerate(spine() + spine()[:3])  # duplicates kept
    ]
    features = definitions()
    with DuckDBEngine(tmp_path) as duck:
        expected = duck.training_set(
            labels, features, sources, entity_column="customer", time_column="at"
        ).fetchall()
    found = (
        SparkEngine(tmp_path, spark)
        .training_set(labels, features, sources, entity_column="customer", time_column="at")
        .fetchall()
    )
    assert len(found) == len(expected) == len(labels)
    for spark_row, duck_row in zip(found, expected, strict=True):
        assert spark_row[:3] == duck_row[:3]
        assert spark_row[3:] == pytest.approx(duck_row[3:], abs=TOLERANCE)


def test_a_project_configured_for_spark_applies_trains_and_materialises(
    tmp_path: Path, spark: Any
) -> None:
    """`engine: spark` by setting only: the same results as the embedded default."""
    from lucid.bootstrap import open_project
    from lucid.project import init_project

    folder = tmp_path / "shop"
    init_project(folder, actor="dana", environ={}).close()
    write_events(folder)
    at = T.replace(tzinfo=UTC)
    results = {}
    for engine_name in ("duckdb", "spark"):
        online = tmp_path / f"online-{engine_name}.db"
        environ = {"LUCID_ENGINE": engine_name, "LUCID_ONLINE_STORE_URL": f"sqlite:///{online}"}
        with open_project(folder, environ=environ) as lucid:
            assert (
                type(lucid.engine).__name__
                == f"{'Spark' if engine_name == 'spark' else 'DuckDB'}Engine"
            )
            if engine_name == "duckdb":
                lucid.features.apply(
                    load_definitions(CANONICAL_DEFINITIONS), actor="dana", rationale="seed"
                )
                for team, person in (
                    ("marketing", "mia"),
                    ("data-science", "sam"),
                    ("product", "paul"),
                ):
                    lucid.features.approve(
                        "customer_activity_30d@1.0.0", team=team, person=person, rationale="ok"
                    )
            rows = lucid.features.get_training_set(
                [{"entity_id": "alice", "timestamp": T}, {"entity_id": "bob", "timestamp": T}],
                ["customer_activity_30d@1.0.0"],
            ).fetchall()
            written = lucid.features.materialize(at=at)
            served = lucid.features.get_online_features(
                ["alice", "carol"], ["customer_activity_30d@1.0.0"], now=at
            )
            results[engine_name] = (
                [row[-1] for row in rows],
                written,
                [row["customer_activity_30d@1.0.0"].value for row in served],
            )
    assert results["spark"][1] == results["duckdb"][1]
    assert results["spark"][0] == pytest.approx(results["duckdb"][0], abs=TOLERANCE)
    assert results["spark"][2] == pytest.approx(results["duckdb"][2], abs=TOLERANCE)
    assert results["duckdb"][0][0] == pytest.approx(0.24)


@pytest.mark.parametrize("as_known_at", [False, True], ids=["snapshot-form", "range-join"])
@pytest.mark.parametrize(
    ("source", "values"),
    [(last_value.PLANS, None), (last_value.PLANS_UNTIMED, last_value.BY_VALUE)],
    ids=["with-ingestion-time", "without"],
)
def test_last_keeps_a_null_and_breaks_ties_alike(
    tmp_path: Path, spark: Any, source: Any, values: Any, as_known_at: bool
) -> None:
    """The running last (Spark), the ASOF JOIN (DuckDB) and the range join (both, as known at
    a source with an ingestion time) give the documented value."""
    last_value.write_plans(tmp_path)
    if values is None:
        values = last_value.AS_KNOWN_AT if as_known_at else last_value.WITH_INGESTION
    feature, sources, spine_rows = last_value.plan_last(), {"plans": source}, last_value.spine()
    with DuckDBEngine(tmp_path) as duck:
        expected = duck.compute(feature, sources, spine_rows, as_known_at=as_known_at)
    found = SparkEngine(tmp_path, spark).compute(
        feature, sources, spine_rows, as_known_at=as_known_at
    )
    assert found == expected == last_value.expected(values)


def test_data_time_and_ttl_agree(tmp_path: Path, spark: Any) -> None:
    """Data time (one term, several terms, `last`) and TTL (stale, empty window, exactly
    `ttl` old) in `latest_values` and training sets, on both engines."""
    ttl.write(tmp_path, "purchases", ttl.PURCHASES)
    ttl.write(tmp_path, "logins", ttl.LOGINS)
    features = [
        ttl.definition("count", ttl.COUNT),
        ttl.definition("both", ttl.BOTH),
        ttl.definition("last", (Term("purchases", Aggregate.LAST, column="value"),)),
        ttl.definition("avg", (Term("purchases", Aggregate.AVG, column="value"),), ttl=None),
    ]
    spark_engine = SparkEngine(tmp_path, spark)
    labels = [
        {"customer": customer, "at": moment}
        for customer in ttl.CUSTOMERS
        for moment in (ttl.T, ttl.T + ttl.SECOND, ttl.T + 2 * ttl.HOUR)
    ]
    with DuckDBEngine(tmp_path) as duck:
        for feature in features:
            expected = sorted(duck.latest_values(feature, ttl.SOURCES, ttl.T).fetchall())
            found = spark_engine.latest_values(feature, ttl.SOURCES, ttl.T).fetchmany(100)
            assert sorted(found) == expected, feature.name
        arguments: dict[str, Any] = {"entity_column": "customer", "time_column": "at"}
        training = duck.training_set(labels, features, ttl.SOURCES, **arguments).fetchall()
    found_rows = spark_engine.training_set(labels, features, ttl.SOURCES, **arguments).fetchall()
    assert found_rows == training
    by_label = {(row[0], row[1]): row[2:] for row in training}
    assert by_label[("a", ttl.T)][0] == 2 and by_label[("a", ttl.T + ttl.SECOND)][0] is None
    assert by_label[("c", ttl.T)][:2] == (None, 1)  # count: empty window; both: a login


def test_a_listing_source_gives_the_same_spine(tmp_path: Path, spark: Any) -> None:
    """`latest_values(..., keys=)` computes for exactly the listed ids known at the time."""
    listing.write_world(tmp_path)
    sources = {"purchases": listing.PURCHASES, "customers": listing.CUSTOMERS}
    feature, keys = listing.purchases_30d(), listing.CUSTOMERS
    with DuckDBEngine(tmp_path) as duck:
        expected = sorted(duck.latest_values(feature, sources, listing.T, keys=keys).fetchall())
    found = SparkEngine(tmp_path, spark).latest_values(feature, sources, listing.T, keys=keys)
    assert sorted(found.fetchmany(100)) == expected
    assert [row[0] for row in expected] == ["1", "4"]
