"""Materialisation, online serving with TTL, the serving log and the skew report, on every
metadata backend (SQLite, PostgreSQL) and every online store (SQLite, Redis)."""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from lucid.bootstrap import utc_now
from lucid.contracts.semantic import SkewSums, values_match
from lucid.engines.compiler import SqlFeatureCompiler
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.golden_examples import run_example_offline
from lucid.errors import Conflict, Forbidden, InvalidInput
from lucid.features.definition_files import load_definitions
from lucid.features.examples import example_time, run_example_online
from lucid.features.store import FeatureStore
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, LEGACY_DEFINITIONS
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import OnlineStore, RedisOnlineStore, scratch_online_store
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_feature_governance import approve_all, as_set
from tests.unit.test_feature_sql import T, write_events

AT = T.replace(tzinfo=UTC)
V1, V2 = "customer_activity_30d@1.0.0", "customer_activity_30d@2.0.0"
ALICE_V1 = 0.7 * 3 / 10 + 0.3 * 2 / 20  # see test_feature_sql: 3 purchases, 2 logins in 30 days
ALICE_V2 = 0.7 * 2 / 10 + 0.3 * 2 / 20  # 7 days: purchases at t-1d and t; logins t-1d, t-4d


@pytest.fixture
def store(
    tmp_path: Path, db: Database, event_log: SqlEventLog, online_store: OnlineStore
) -> Iterator[FeatureStore]:
    write_events(tmp_path)
    engine = DuckDBEngine(tmp_path)
    features = FeatureStore(
        SqlUnitsOfWork(db, event_log),
        lambda: engine,
        lambda: online_store,
        compiler=SqlFeatureCompiler(scratch_online_store),
        clock=utc_now,
    )
    features.apply(with_ttl(), actor="dana", rationale="seed")
    approve_all(features, V1)
    yield features
    engine.close()


def with_ttl() -> Any:
    """The canonical sources and definition, with a 2-day TTL: a value is stale once its
    latest event is over 2 days old (its golden examples, which read an empty window as 0.0,
    do not hold under a TTL)."""
    data = copy.deepcopy(yaml.safe_load(CANONICAL_DEFINITIONS.read_text()))
    data["features"][0]["ttl"] = "2d"
    data["features"][0].pop("examples")
    return as_set(data)


def seven_day_version() -> Any:
    data = copy.deepcopy(yaml.safe_load(CANONICAL_DEFINITIONS.read_text()))
    feature = data["features"][0]
    feature.update(version="2.0.0", window="7d")
    feature.pop("examples")  # the 30-day examples do not hold for 7 days
    return as_set({"features": [feature]})


def test_pinned_versions_are_served_exactly(store: FeatureStore) -> None:
    store.apply(seven_day_version(), actor="dana", rationale="a weekly view")
    approve_all(store, V2)  # supersedes 1.0.0, which models pinned to it still get
    written = store.materialize([V1, V2], at=AT)
    assert written == {V1: 3, V2: 3}  # alice, bob and carol have events
    [alice, nobody] = store.get_online_features(["alice", "nobody"], [V1, V2], now=AT)
    assert alice[V1].value == pytest.approx(ALICE_V1)
    assert alice[V2].value == pytest.approx(ALICE_V2)
    assert alice[V1].status == "fresh"
    # nobody had no event at materialisation: under the 2-day TTL nothing recent stands behind
    # the definition's empty value, so it is stale (as its training row would be)
    assert nobody[V1].status == "stale" and nobody[V1].value is None
    never = store.get_online_features(["alice"], ["customer_activity_30d@1.0"], now=AT)
    assert never[0][V1].value == pytest.approx(ALICE_V1)


def test_before_any_materialisation_values_are_missing(store: FeatureStore) -> None:
    [alice] = store.get_online_features(["alice"], [V1], now=AT)
    assert alice[V1].status == "missing" and alice[V1].value is None


def test_a_value_past_its_ttl_is_served_as_missing_and_stale(store: FeatureStore) -> None:
    store.materialize([V1], at=AT)
    fresh = store.get_online_features(["alice"], [V1], now=AT + timedelta(days=2))[0][V1]
    assert fresh.status == "fresh"
    stale = store.get_online_features(["alice"], [V1], now=AT + timedelta(days=2, seconds=1))
    assert stale[0][V1].value is None and stale[0][V1].status == "stale"


def test_only_approved_definitions_are_served(store: FeatureStore) -> None:
    store.apply(seven_day_version(), actor="dana", rationale="a weekly view")
    with pytest.raises(Forbidden, match="was never approved by every required team"):
        store.get_online_features(["alice"], [V2], now=AT)
    store.import_legacy(load_definitions(LEGACY_DEFINITIONS), actor="audit", rationale="seed")
    with pytest.raises(Forbidden, match="legacy definition"):
        store.get_training_set([{"entity_id": "alice", "timestamp": T}], ["active_buyers@1.0"])
    with pytest.raises(InvalidInput, match="must pin a version"):
        store.get_online_features(["alice"], ["customer_activity_30d"], now=AT)


def test_the_event_loop_read_serves_and_refuses_as_the_blocking_one(
    store: FeatureStore, online_store: OnlineStore
) -> None:
    async def served(features: list[str]) -> list[dict[str, Any]]:
        rows = await store.get_online_features_async(["alice", "nobody"], features, now=AT)
        return [{ref: (v.value, v.status) for ref, v in row.items()} for row in rows]

    async def refusal(features: list[str]) -> str:
        try:
            await store.get_online_features_async(["alice"], features, now=AT)
        except (InvalidInput, Forbidden) as error:
            return error.sentence
        return "served"

    async def both(features: list[str]) -> list[Any]:
        try:
            return [await served(features)] + [
                await refusal(bad) for bad in ([], ["customer_activity_30d"], [V2])
            ]
        finally:
            if isinstance(online_store, RedisOnlineStore):
                online_store.close()  # its event-loop connection belongs to this loop

    store.apply(seven_day_version(), actor="dana", rationale="a weekly view")  # not approved
    before = asyncio.run(both([V1]))
    assert before[0] == [{V1: (None, "missing")}] * 2
    store.materialize([V1], at=AT)
    after, no_feature, unpinned, unapproved = asyncio.run(both([V1]))
    blocking = store.get_online_features(["alice", "nobody"], [V1], now=AT)
    at_once = store.get_online_features_now(["alice", "nobody"], [V1], now=AT)
    assert after == [{ref: (v.value, v.status) for ref, v in row.items()} for row in at_once]
    assert after == [{ref: (v.value, v.status) for ref, v in row.items()} for row in blocking]
    assert after[1] == {V1: (None, "stale")}  # nobody: the empty value, by the marker, past TTL
    assert no_feature == "features: name at least one pinned feature (name@version)"
    with pytest.raises(InvalidInput) as sync_unpinned:
        store.get_online_features(["alice"], ["customer_activity_30d"], now=AT)
    assert unpinned == sync_unpinned.value.sentence
    assert "was never approved by every required team" in unapproved


def test_skew_is_zero_when_serving_matches_the_definition(store: FeatureStore) -> None:
    store.materialize([V1], at=AT)
    store.get_online_features(["alice", "bob", "carol", "nobody"], [V1], log=True, now=AT)
    report = store.skew_report().to_dict()
    assert report["overall"]["served"] == 4
    assert report["overall"]["mismatch_rate"] == 0.0
    assert report["overall"]["mean_relative_error"] == 0.0
    # bob's latest event is 29 days old and nobody has none: stale under the 2-day TTL,
    # online as in the training row recomputed offline.
    assert report["overall"]["missing_rate"] == 0.5


def test_skew_sees_stale_values_and_an_older_definition(
    store: FeatureStore, online_store: OnlineStore
) -> None:
    # Materialised 12 days early: served at AT within a long TTL would be wrong; with the 2-day
    # TTL it is served as stale, which the report counts as missing and mismatched.
    store.materialize([V1], at=AT - timedelta(days=12))
    store.get_online_features(["alice", "carol"], [V1], log=True, now=AT)
    stale = store.skew_report().overall
    assert stale.missing_rate == 1.0 and stale.mismatch_rate == 1.0
    # Serving values of 1.0.0 under the name of 2.0.0 — the seed's skew — is caught too.
    store.apply(seven_day_version(), actor="dana", rationale="a weekly view")
    approve_all(store, V2)
    old_values = [("alice", ALICE_V1, AT.timestamp(), AT.timestamp())]
    old_values.append(("carol", 0.775, AT.timestamp(), AT.timestamp()))
    online_store.write(V2, old_values)
    store.get_online_features(["alice", "carol"], [V2], log=True, now=AT)
    report = store.skew_report(since=AT)
    [v2] = [stats for stats in report.features if stats.feature == V2]
    assert v2.mismatch_rate == 1.0 and v2.mean_relative_error > 0.1


def test_a_definition_whose_golden_example_fails_is_refused(store: FeatureStore) -> None:
    data = copy.deepcopy(yaml.safe_load(CANONICAL_DEFINITIONS.read_text()))
    feature = data["features"][0]
    feature.update(version="1.1.0", ttl="2d")  # the stored 1.0.0's TTL: a minor change
    feature["examples"] = feature["examples"][:1]
    feature["examples"][0]["expected"] = 0.25
    with pytest.raises(
        Conflict,
        match=r"golden example 1 of customer_activity_30d@1\.1\.0 .* "
        r"expects 0\.25 for alice .* computes 0\.24",
    ):
        store.apply(as_set({"features": [feature]}), actor="dana", rationale="examples")


def test_golden_examples_hold_offline_and_through_this_online_store(
    online_store: OnlineStore,
) -> None:
    definitions = load_definitions(CANONICAL_DEFINITIONS)
    [definition] = definitions.features
    sources = {source.name: source for source in definitions.sources}
    assert len(definition.examples) == 3
    for example in definition.examples:
        offline = run_example_offline(definition, sources, example)
        assert values_match(example.expected, offline), example.description
        at = example_time(example.at, "at")
        online = run_example_online(definition, offline, at, online_store)
        assert values_match(example.expected, online), example.description


def test_materialising_an_earlier_time_after_a_later_one_keeps_the_later_values(
    store: FeatureStore,
) -> None:
    assert store.materialize([V1], at=AT) == {V1: 3}
    # Ten days earlier alice had other events in the window; that value must not come back.
    assert store.materialize([V1], at=AT - timedelta(days=10)) == {V1: 0}
    [alice] = store.get_online_features(["alice"], [V1], now=AT)
    assert alice[V1].status == "fresh" and alice[V1].value == pytest.approx(ALICE_V1)
    assert alice[V1].as_of == AT.timestamp()


def test_ttl_counts_from_the_latest_event_behind_a_value(store: FeatureStore) -> None:
    store.materialize([V1], at=AT)
    # Materialised at AT, but bob's latest event was 29 days before: older than the 2-day TTL.
    [bob] = store.get_online_features(["bob"], [V1], now=AT)
    assert bob[V1].status == "stale" and bob[V1].value is None
    # carol's latest event is a login 12 hours before AT, alice's a purchase at AT.
    edge = AT + timedelta(days=1, hours=12)
    [carol, alice] = store.get_online_features(["carol", "alice"], [V1], now=edge)
    assert carol[V1].status == "fresh" and alice[V1].status == "fresh"
    [carol, alice] = store.get_online_features(
        ["carol", "alice"], [V1], now=edge + timedelta(seconds=1)
    )
    assert carol[V1].status == "stale" and alice[V1].status == "fresh"


def test_without_a_ttl_an_entity_with_no_event_is_served_the_empty_value(
    store: FeatureStore,
) -> None:
    data = copy.deepcopy(yaml.safe_load(CANONICAL_DEFINITIONS.read_text()))
    feature = data["features"][0]
    feature.update(version="3.0.0", window="7d")
    feature.pop("ttl", None)
    feature.pop("examples")
    store.apply(as_set({"features": [feature]}), actor="dana", rationale="no TTL")
    v3 = "customer_activity_30d@3.0.0"
    approve_all(store, v3)
    store.materialize([v3], at=AT)
    [bob, nobody] = store.get_online_features(["bob", "nobody"], [v3], now=AT + timedelta(days=90))
    assert (bob[v3].value, bob[v3].status) == (0.0, "fresh")  # no event in 7 days
    assert (nobody[v3].value, nobody[v3].status) == (0.0, "fresh")  # never an event


@pytest.fixture
def new_york() -> Iterator[None]:
    """The machine's local zone set to New York (UTC-4 in spring): a naive time read in it
    would be four hours late."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_naive_times_mean_utc_whatever_the_machine_zone(
    store: FeatureStore, new_york: None
) -> None:
    assert store.materialize([V1], at=T) == {V1: 3}  # T is AT without its zone
    [alice] = store.get_online_features(["alice"], [V1], now=T)
    assert alice[V1].as_of == AT.timestamp() and alice[V1].value == pytest.approx(ALICE_V1)
    # alice's latest event is at T: fresh until exactly T + 2 days, UTC.
    edge = T + timedelta(days=2)
    assert store.get_online_features(["alice"], [V1], now=edge)[0][V1].status == "fresh"
    later = edge + timedelta(seconds=1)
    assert store.get_online_features(["alice"], [V1], now=later)[0][V1].status == "stale"


def test_the_kept_skew_agrees_with_a_recomputation_and_moves_with_each_value_served(
    store: FeatureStore, db: Database, event_log: SqlEventLog
) -> None:
    assert store.overall_skew().served == 0
    store.materialize([V1], at=AT - timedelta(days=12))
    store.get_online_features(["alice", "carol"], [V1], log=True, now=AT)
    stale = store.overall_skew()
    assert stale == store.skew_report().overall and stale.served == stale.mismatches == 2
    uows = SqlUnitsOfWork(db, event_log)
    with uows() as uow:  # sums kept at the current position are read, not measured again
        position = uow.features.served_position()
        uow.features.keep_skew(1e-6, position, [SkewSums(V1, 2, 0, 2)], AT)
    assert store.overall_skew().mismatches == 0
    assert store.overall_skew(recompute=True) == stale == store.overall_skew()
    store.materialize([V1], at=AT)
    store.get_online_features(["alice", "bob"], [V1], log=True, now=AT)
    with uows() as uow:  # only the values served after the kept position are added
        uow.features.keep_skew(1e-6, position, [SkewSums(V1, 2, 0, 2)], AT)
    assert (store.overall_skew().served, store.overall_skew().mismatches) == (4, 0)
    moved = store.overall_skew(recompute=True)
    assert (moved.served, moved.mismatches) == (4, 2)  # alice fresh and bob stale both match
    assert moved == store.skew_report().overall == store.overall_skew()
    assert store.feature_skews() == {V1: store.skew_report().features[0]}
