"""Sources, definitions and their governance stored on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import yaml
from sqlalchemy import select

from lucid.bootstrap import utc_now
from lucid.contracts.semantic import FeatureDefinition, Source, Status
from lucid.engines.compiler import SqlFeatureCompiler
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import Conflict, Forbidden, NotFound
from lucid.features.definition_files import DefinitionSet, load_definitions
from lucid.features.store import FeatureStore
from lucid.scenarios.churn import LEGACY_DEFINITIONS
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import scratch_online_store
from lucid.storage.tables import feature_approvals, feature_definitions, feature_sources
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.conftest import POSTGRES_URL
from tests.unit.test_feature_sql import FIXTURE, T, write_events

TEAMS = {"marketing": "mia", "data-science": "sam", "product": "paul"}


@pytest.fixture
def store(tmp_path: Path, db: Database, event_log: SqlEventLog) -> Iterator[FeatureStore]:
    write_events(tmp_path)
    engine = DuckDBEngine(tmp_path)
    yield FeatureStore(
        SqlUnitsOfWork(db, event_log),
        lambda: engine,
        compiler=SqlFeatureCompiler(scratch_online_store),
        clock=utc_now,
    )
    engine.close()


def seed_file() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(FIXTURE.read_text()))


def as_set(data: dict[str, Any]) -> DefinitionSet:
    return DefinitionSet(
        sources=[Source.from_dict(s) for s in data.get("sources", [])],
        features=[FeatureDefinition.from_dict(f) for f in data.get("features", [])],
    )


def snapshot(db: Database, event_log: SqlEventLog) -> tuple[Any, ...]:
    """Everything the semantic contract stores, to prove a refusal changed nothing."""
    with db.transaction() as connection:
        rows = tuple(
            tuple(map(tuple, connection.execute(select(table)).all()))
            for table in (feature_sources, feature_definitions, feature_approvals)
        )
    return (*rows, event_log.count())


def approve_all(store: FeatureStore, reference: str) -> None:
    for team, person in TEAMS.items():
        store.approve(reference, team=team, person=person, rationale=f"{team} reviewed it")


def test_apply_then_collective_approval_makes_the_definition_canonical(
    store: FeatureStore, event_log: SqlEventLog
) -> None:
    plan = store.apply(load_definitions(FIXTURE), actor="dana", rationale="seed definition")
    assert [i.action.value for i in plan.sources] == ["add", "add"]
    assert store.get("customer_activity_30d@1.0").status is Status.PROPOSED
    store.approve("customer_activity_30d@1.0", team="marketing", person="mia", rationale="ok")
    partial = store.get("customer_activity_30d@1.0")
    assert partial.status is Status.PROPOSED
    assert partial.missing_teams == ("data-science", "product")
    store.approve("customer_activity_30d@1.0", team="data-science", person="sam", rationale="ok")
    store.approve("customer_activity_30d@1.0", team="product", person="paul", rationale="ok")
    assert store.get("customer_activity_30d").status is Status.APPROVED
    story = [(e.type, e.subject, e.actor) for e in event_log.read()]
    assert story == [
        ("SourceRegistered", "source:purchases", "dana"),
        ("SourceRegistered", "source:logins", "dana"),
        ("FeatureProposed", "feature:customer_activity_30d@1.0.0", "dana"),
        ("FeatureApprovalGiven", "feature:customer_activity_30d@1.0.0", "mia"),
        ("FeatureApprovalGiven", "feature:customer_activity_30d@1.0.0", "sam"),
        ("FeatureApprovalGiven", "feature:customer_activity_30d@1.0.0", "paul"),
        ("FeatureApproved", "feature:customer_activity_30d@1.0.0", "paul"),
    ]
    assert all(e.rationale for e in event_log.read())
    assert event_log.verify().ok


def test_a_new_version_supersedes_the_canonical_one_once_approved(
    store: FeatureStore, event_log: SqlEventLog
) -> None:
    store.apply(load_definitions(FIXTURE), actor="dana", rationale="seed")
    approve_all(store, "customer_activity_30d@1.0.0")
    data = seed_file()
    data["features"][0]["version"] = "2.0.0"
    data["features"][0]["window"] = "28d"
    plan = store.plan(as_set(data))
    [item] = plan.features
    assert (item.action.value, item.required.label) == ("new version", "major")
    store.apply(as_set(data), actor="dana", rationale="align with the billing month")
    assert store.get("customer_activity_30d").definition.version.major == 1  # still canonical
    approve_all(store, "customer_activity_30d@2.0.0")
    assert store.get("customer_activity_30d@1.0.0").status is Status.DEPRECATED
    assert store.get("customer_activity_30d").definition.window.seconds == 28 * 86_400
    deprecated = event_log.read(type="FeatureDeprecated")
    assert deprecated[0].payload["superseded_by"] == "customer_activity_30d@2.0.0"


def refuse(
    store: FeatureStore,
    db: Database,
    event_log: SqlEventLog,
    action: Any,
    error: type[Exception],
    message: str,
) -> None:
    before = snapshot(db, event_log)
    with pytest.raises(error, match=message):
        action()
    assert snapshot(db, event_log) == before


def test_governance_refusals_change_nothing(
    store: FeatureStore, db: Database, event_log: SqlEventLog
) -> None:
    store.apply(load_definitions(FIXTURE), actor="dana", rationale="seed")
    ref = "customer_activity_30d@1.0.0"
    refuse(
        store,
        db,
        event_log,
        lambda: store.approve(ref, team="marketing", person="dana", rationale="mine"),
        Forbidden,
        "nobody approves their own change",
    )
    refuse(
        store,
        db,
        event_log,
        lambda: store.approve(ref, team="finance", person="fred", rationale="?"),
        Forbidden,
        "team 'finance' is not among the teams",
    )
    refuse(
        store,
        db,
        event_log,
        lambda: store.approve(
            "customer_activity_30d@9.0", team="marketing", person="mia", rationale="?"
        ),
        NotFound,
        "is not stored",
    )
    changed = seed_file()
    changed["features"][0]["computation"]["aggregation"][0]["weight"] = 0.8
    refuse(
        store,
        db,
        event_log,
        lambda: store.apply(as_set(changed), actor="dana", rationale="tweak"),
        Conflict,
        "changes computation; a major change needs version 2.0.0",
    )
    approve_all(store, ref)
    rival = seed_file()
    rival["features"][0]["name"] = "activity_score"
    store.apply(DefinitionSet(features=as_set(rival).features), actor="dana", rationale="rival")
    store.approve("activity_score@1.0.0", team="marketing", person="mia", rationale="ok")
    store.approve("activity_score@1.0.0", team="data-science", person="sam", rationale="ok")
    refuse(
        store,
        db,
        event_log,
        lambda: store.approve(
            "activity_score@1.0.0", team="product", person="paul", rationale="ok"
        ),
        Conflict,
        "already has the approved definition customer_activity_30d@1.0.0",
    )


def test_a_source_whose_columns_do_not_match_is_refused(
    store: FeatureStore, db: Database, event_log: SqlEventLog
) -> None:
    data = seed_file()
    data["sources"][0]["schema"]["discount"] = "double"
    data["sources"][0]["schema"]["amount"] = "string"
    refuse(
        store,
        db,
        event_log,
        lambda: store.apply(as_set(data), actor="dana", rationale="seed"),
        Conflict,
        "source purchases does not match its data: column 'amount' is declared string but "
        "the data has double; column 'discount' is declared but not in the data",
    )
    data = seed_file()
    data["sources"][1]["location"] = "data/nowhere"
    refuse(
        store,
        db,
        event_log,
        lambda: store.apply(as_set(data), actor="dana", rationale="seed"),
        Conflict,
        "location: 'data/nowhere' cannot be read",
    )


def test_a_definition_naming_unknown_columns_or_sources_is_refused(
    store: FeatureStore, db: Database, event_log: SqlEventLog
) -> None:
    data = seed_file()
    data["features"][0]["exclusions"][1]["where"]["column"] = "is_fake"
    refuse(
        store,
        db,
        event_log,
        lambda: store.apply(as_set(data), actor="dana", rationale="seed"),
        Conflict,
        "column 'is_fake' is not in source purchases",
    )
    data = seed_file()
    data["features"][0]["required_approvals"] = []
    refuse(
        store,
        db,
        event_log,
        lambda: store.apply(as_set(data), actor="dana", rationale="seed"),
        Conflict,
        "names no team in required_approvals",
    )
    data = seed_file()
    del data["sources"]
    refuse(
        store,
        db,
        event_log,
        lambda: store.apply(as_set(data), actor="dana", rationale="seed"),
        Conflict,
        r"source\(s\) logins, purchases not registered",
    )


def test_the_seed_audit_from_three_contradictions_to_zero(
    store: FeatureStore, event_log: SqlEventLog
) -> None:
    legacy = LEGACY_DEFINITIONS
    assert len(store.import_legacy(load_definitions(legacy), actor="audit", rationale="seed")) == 3
    assert store.audit().contradictory_definitions == 3
    store.apply(load_definitions(FIXTURE), actor="dana", rationale="seed")
    approve_all(store, "customer_activity_30d@1.0.0")
    report = store.audit()
    assert report.contradictory_definitions == 3
    assert str(report.concepts[0].canonical) == "customer_activity_30d@1.0.0"
    for name in ("active_buyers", "engaged_users", "active_app_users"):
        store.deprecate(f"{name}@1.0", actor="dana", rationale="replaced by the canonical one")
    assert store.audit().contradictory_definitions == 0
    assert len(event_log.read(type="LegacyFeatureImported")) == 3
    with pytest.raises(Conflict, match="already deprecated"):
        store.deprecate("active_buyers@1.0", actor="dana", rationale="again")


def test_a_legacy_import_never_overwrites(store: FeatureStore, event_log: SqlEventLog) -> None:
    legacy = LEGACY_DEFINITIONS
    store.import_legacy(load_definitions(legacy), actor="audit", rationale="seed")
    assert store.import_legacy(load_definitions(legacy), actor="audit", rationale="again") == []
    data = yaml.safe_load(legacy.read_text())
    data["features"][0]["window"] = "60d"
    with pytest.raises(Conflict, match="already stored with another content"):
        store.import_legacy(as_set(data), actor="audit", rationale="edit")
    assert len(event_log.read(type="LegacyFeatureImported")) == 3


def test_duckdb_csv_and_postgresql_sources_compute_the_same_feature(
    tmp_path: Path, store: FeatureStore, postgres_schema: str
) -> None:
    """The seed definition over the same purchases read from four kinds of source."""
    schema_name = postgres_schema.rsplit("%3D", 1)[1]
    parquet = tmp_path / "data" / "purchases" / "part-0.parquet"
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"CREATE TABLE purchases AS SELECT * FROM '{parquet}'")
        connection.execute(f"COPY purchases TO '{tmp_path / 'purchases.csv'}' (HEADER)")
        rows = connection.execute("SELECT * FROM purchases").fetchall()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(
            f'CREATE TABLE "{schema_name}".purchases (customer_id text, purchased_at timestamp, '
            "ingested_at timestamp, amount double precision, is_bot boolean, is_test boolean)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{schema_name}".purchases VALUES (%s, %s, %s, %s, %s, %s)', rows
            )
    locations = {
        "parquet": "data/purchases",
        "duckdb": f"{warehouse}#purchases",
        "csv": str(tmp_path / "purchases.csv"),
        "postgresql": f"{POSTGRES_URL}#{schema_name}.purchases",
    }
    values = {}
    for kind, location in locations.items():
        data = seed_file()
        data["sources"][0].update(kind=kind, location=location, name=f"purchases_{kind}")
        feature = data["features"][0]
        feature["name"] = f"activity_{kind}"
        feature.pop("examples")  # they name the source "purchases"
        for term in feature["computation"]["aggregation"]:
            if term["source"] == "purchases":
                term["source"] = f"purchases_{kind}"
        feature["exclusions"][1]["sources"] = [f"purchases_{kind}"]
        definitions = as_set(data)
        store.apply(
            DefinitionSet(sources=definitions.sources[:1], features=definitions.features),
            actor="dana",
            rationale=f"{kind} copy",
        ) if kind != "parquet" else store.apply(definitions, actor="dana", rationale="seed")
        sources = store.sources()
        values[kind] = DuckDBEngine(tmp_path).compute(
            definitions.features[0], sources, [("alice", T), ("bob", T), ("dave", T)]
        )
    assert values["duckdb"] == values["parquet"]
    assert values["csv"] == values["parquet"]
    assert values["postgresql"] == values["parquet"]
    assert values["parquet"][("alice", T)] == pytest.approx(0.7 * 3 / 10 + 0.3 * 2 / 20)


def test_a_postgresql_source_with_a_missing_table_is_refused(
    store: FeatureStore, postgres_schema: str
) -> None:
    data = seed_file()
    data["sources"][0].update(kind="postgresql", location=f"{POSTGRES_URL}#nowhere.purchases")
    with pytest.raises(Conflict, match=r"table nowhere\.purchases does not exist"):
        store.apply(as_set(data), actor="dana", rationale="seed")
