"""`lucid features show --sql` prints the query a training set runs (docs/features.md "The
SQL"): run over a spine relation, the printed DuckDB text gives the DuckDB training set's
values and the printed Spark text the Spark training set's, for a snapshot (`last`) over a
source with an ingestion time (as known at: the late row is not seen) and without one (DuckDB's
ASOF JOIN, Spark's running last)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from lucid.bootstrap import utc_now
from lucid.contracts.semantic import FeatureDefinition
from lucid.engines.compiler import SqlFeatureCompiler
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from lucid.errors import InvalidInput
from lucid.features.definition_files import DefinitionSet
from lucid.features.store import FeatureStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import scratch_online_store
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.unit.test_last_value import AS_KNOWN_AT, PLANS, T, expected, plan_last, write_plans

UNTIMED = replace(PLANS, name="plan_changes", ingestion_time=None)


def definitions() -> list[FeatureDefinition]:
    known = replace(plan_last(), required_approvals=("data-science",))
    untimed = replace(
        known,
        name="plan_changes_last",
        concept="plan_changes",
        computation=replace(
            known.computation,
            terms=(replace(known.computation.terms[0], source=UNTIMED.name),),  # type: ignore[union-attr]
        ),
    )
    return [known, untimed]


@pytest.fixture
def store(tmp_path: Any, db: Database, event_log: SqlEventLog) -> Iterator[FeatureStore]:
    write_plans(tmp_path)
    engine = DuckDBEngine(tmp_path)
    store = FeatureStore(
        SqlUnitsOfWork(db, event_log),
        lambda: engine,
        compiler=SqlFeatureCompiler(scratch_online_store),
        clock=utc_now,
    )
    store.apply(
        DefinitionSet(sources=[PLANS, UNTIMED], features=definitions()),
        actor="dana",
        rationale="plans",
    )
    store.tmp_path = tmp_path  # type: ignore[attr-defined]
    yield store
    engine.close()


def labels() -> list[dict[str, Any]]:
    return [{"customer": customer, "at": T} for customer, _ in sorted(expected(AS_KNOWN_AT))]


def training_values(engine: Any, store: FeatureStore, definition: FeatureDefinition) -> Any:
    rows = engine.training_set(
        labels(), [definition], store.sources(), entity_column="customer", time_column="at"
    ).fetchall()
    return {(customer, at): value for customer, at, value in rows}


def test_the_printed_duckdb_sql_is_what_the_training_set_runs(store: FeatureStore) -> None:
    engine = DuckDBEngine(store.tmp_path)  # type: ignore[attr-defined]
    sources = store.sources()
    for source in sources.values():
        engine.relation(source)
    engine.connection.execute(
        "CREATE TEMP TABLE spine AS SELECT customer AS __lucid_entity, moment AS __lucid_as_of "
        "FROM (SELECT UNNEST(?) AS customer, CAST(? AS TIMESTAMP) AS moment)",
        [[label["customer"] for label in labels()], T],
    )
    for definition in definitions():
        printed = store.sql(str(definition.ref))
        rows = engine.connection.execute(printed).fetchall()
        assert {(e, t): v for e, t, v, _ in rows} == training_values(engine, store, definition)
    assert "ASOF" in store.sql("plan_changes_last@1.0.0")  # DuckDB's own form, as it runs
    assert '"loaded_at" <= s.__lucid_as_of' in store.sql("plan_last@1.0.0")  # as known at


def test_the_printed_spark_sql_is_what_the_spark_training_set_runs(
    store: FeatureStore, spark: Any
) -> None:
    engine = SparkEngine(store.tmp_path, spark)  # type: ignore[attr-defined]
    for source in store.sources().values():
        engine.relation(source)
    spark.createDataFrame(
        [(label["customer"], T) for label in labels()],
        "__lucid_entity STRING, __lucid_as_of TIMESTAMP_NTZ",
    ).createOrReplaceTempView("spine")
    duck = DuckDBEngine(store.tmp_path)  # type: ignore[attr-defined]
    for definition in definitions():
        printed = store.sql(str(definition.ref), dialect="spark")
        assert "ASOF" not in printed
        rows = {(r[0], r[1]): r[2] for r in spark.sql(printed).collect()}
        assert rows == training_values(engine, store, definition)
        assert rows == training_values(duck, store, definition)
    assert "LAST_VALUE" in store.sql("plan_changes_last@1.0.0", dialect="spark")


def test_an_unknown_dialect_is_refused(store: FeatureStore) -> None:
    with pytest.raises(InvalidInput, match="dialect: 'oracle' must be one of duckdb, spark"):
        store.sql("plan_last@1.0.0", dialect="oracle")
