"""Entities with a listing source: materialisation writes exactly the listed ids and the online
read refuses an id the listing did not hold at the latest materialisation, on every metadata
backend (SQLite, PostgreSQL) and online store (SQLite, Redis); a second listing source of one
entity is refused at plan and apply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from lucid.bootstrap import utc_now
from lucid.contracts.semantic import PlanAction, Source
from lucid.engines.compiler import SqlFeatureCompiler
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.features.store import FeatureStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import OnlineStore, RedisOnlineStore, scratch_online_store
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_feature_governance import approve_all, as_set
from tests.contract.test_feature_serving import AT, V1, with_ttl
from tests.unit.test_feature_sql import T, write_events

DAY = timedelta(days=1)
CUSTOMERS = {
    "name": "customers",
    "kind": "parquet",
    "location": "data/customers.parquet",
    "entity": "customer",
    "entity_key": "customer_id",
    "event_time": "signed_up_at",
    "lists_entities": True,
    "schema": {"customer_id": "string", "signed_up_at": "timestamp"},
}


def write_customers(project: Path, rows: list[tuple[str, datetime]]) -> None:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("CREATE TABLE c (customer_id VARCHAR, signed_up_at TIMESTAMP)")
    connection.executemany("INSERT INTO c VALUES (?, ?)", rows)
    connection.execute(f"COPY c TO '{project / 'data' / 'customers.parquet'}'")
    connection.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_events(tmp_path)
    # carol has events but is not a customer; dave is one without events; erin signs up
    # after AT, so is not known at AT.
    write_customers(
        tmp_path,
        [("alice", T - 90 * DAY), ("bob", T - 90 * DAY), ("dave", T - 5 * DAY), ("erin", T + DAY)],
    )
    return tmp_path


@pytest.fixture
def store(
    project: Path, db: Database, event_log: SqlEventLog, online_store: OnlineStore
) -> Iterator[FeatureStore]:
    engine = DuckDBEngine(project)
    features = FeatureStore(
        SqlUnitsOfWork(db, event_log),
        lambda: engine,
        lambda: online_store,
        compiler=SqlFeatureCompiler(scratch_online_store),
        clock=utc_now,
    )
    features.apply(with_ttl(), actor="dana", rationale="seed")
    features.apply(as_set({"sources": [CUSTOMERS]}), actor="dana", rationale="who is a customer")
    approve_all(features, V1)
    yield features
    engine.close()


def test_materialisation_writes_exactly_the_listed_ids(store: FeatureStore) -> None:
    assert store.materialize([V1], at=AT) == {V1: 3}  # alice, bob, dave; not carol nor erin
    alice, bob, dave = store.get_online_features(["alice", "bob", "dave"], [V1], now=AT)
    assert alice[V1].status == "fresh" and alice[V1].value > 0
    assert bob[V1].status == "stale"  # his latest event is 29 days old: past the 2-day TTL
    assert dave[V1].status == "stale" and dave[V1].value is None  # no event, under a TTL


@pytest.mark.parametrize("stranger", ["carol", "erin", "alcie"])
def test_an_id_the_listing_does_not_hold_is_not_found(store: FeatureStore, stranger: str) -> None:
    store.materialize([V1], at=AT)
    with pytest.raises(NotFound) as refused:
        store.get_online_features(["alice", stranger], [V1], now=AT, log=True)
    assert refused.value.sentence == (
        f"customer {stranger!r} is not known: source customers, which lists every customer, "
        f"did not hold it when {V1} was last materialised."
    )
    assert store.skew_report().overall.served == 0  # nothing was logged


def test_an_id_dropped_from_the_listing_becomes_unknown(store: FeatureStore, project: Path) -> None:
    store.materialize([V1], at=AT)
    write_customers(project, [("alice", T - 90 * DAY), ("dave", T - 5 * DAY)])  # bob left
    store.materialize([V1], at=AT + DAY)
    with pytest.raises(NotFound, match="customer 'bob' is not known"):
        store.get_online_features(["bob"], [V1], now=AT + DAY)
    [alice] = store.get_online_features(["alice"], [V1], now=AT + DAY)
    assert alice[V1].status == "fresh"


def test_the_event_loop_read_answers_an_unknown_id_by_its_status(
    store: FeatureStore, online_store: OnlineStore
) -> None:
    store.materialize([V1], at=AT)

    async def read() -> list[Any]:
        try:
            return await store.get_online_features_async(["alice", "carol"], [V1], now=AT)
        finally:
            if isinstance(online_store, RedisOnlineStore):
                online_store.close()  # its event-loop connection belongs to this loop

    alice, carol = asyncio.run(read())
    assert alice[V1].status == "fresh"
    assert (carol[V1].status, carol[V1].value) == ("unknown", None)
    with pytest.raises(NotFound, match="customer 'carol' is not known"):
        store.check_known([V1], [alice, carol])


def test_before_any_materialisation_a_listed_feature_is_missing(store: FeatureStore) -> None:
    [carol] = store.get_online_features(["carol"], [V1], now=AT)
    assert carol[V1].status == "missing"


def test_a_second_listing_source_of_one_entity_is_refused(store: FeatureStore) -> None:
    second = {**CUSTOMERS, "name": "accounts"}
    plan = store.plan(as_set({"sources": [second]}))
    [item] = plan.sources
    assert item.action is PlanAction.REFUSE
    assert item.reason == (
        "source accounts lists the ids of customer, which source customers lists already; "
        "an entity has at most one listing source"
    )
    before = store.sources()
    with pytest.raises(Conflict, match="at most one listing source"):
        store.apply(as_set({"sources": [second]}), actor="dana", rationale="again")
    assert store.sources() == before
    # Two in one definition set are refused alike.
    both = [{**CUSTOMERS, "name": name, "entity": "shop"} for name in ("a", "b")]
    reasons = [item.reason for item in store.plan(as_set({"sources": both})).sources]
    assert "source b lists the ids of shop, which source a lists already" in reasons[1]


def test_lists_entities_is_stored_only_when_set_and_must_be_a_boolean() -> None:
    listing = Source.from_dict(CUSTOMERS)
    assert listing.lists_entities and listing.to_dict()["lists_entities"] is True
    plain = Source.from_dict({key: v for key, v in CUSTOMERS.items() if key != "lists_entities"})
    assert not plain.lists_entities and "lists_entities" not in plain.to_dict()
    assert Source.from_dict(json.loads(json.dumps(listing.to_dict()))) == listing
    with pytest.raises(InvalidInput) as refused:
        Source.from_dict({**CUSTOMERS, "lists_entities": "yes"})
    assert refused.value.sentence == "source customers.lists_entities: 'yes' must be true or false"
