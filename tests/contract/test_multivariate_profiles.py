"""The multivariate part of a reference profile on SQLite and PostgreSQL: stored and loaded
whole; a profile without it loads and keeps its fingerprint; the same reference profiled again
completes it; a run stores both multivariate checks with their evidence. And the same
reconstruction error on DuckDB and on Spark, each reading the window in batches."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from lucid.contracts.validity import SEED_ACTIONS, DriftType, MonitoringPolicy, Reporting, Threshold
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from lucid.errors import Conflict
from lucid.monitoring.multivariate import measure_multivariate
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import run_checks
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.monitoring import SqlMonitoringStore
from lucid.storage.tables import monitoring_profiles
from lucid.storage.unit_of_work import SqlUnitsOfWork

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def window(rows: int, seed: int, rho: float = 0.7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = rng.standard_normal(rows)
    second = rho * first + np.sqrt(1 - rho**2) * rng.standard_normal(rows)
    return pd.DataFrame(
        {
            "activity": first,
            "spend": 30 + 8 * second,
            "tenure": np.where(rng.random(rows) < 0.05, np.nan, rng.exponential(12, rows)),
            "plan": rng.choice(["basic", "pro", None], rows, p=[0.6, 0.35, 0.05]),
        }
    )


def fingerprint(profile: ReferenceProfile) -> str:
    text = json.dumps(profile.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def stored_fingerprint(db: Database) -> str:
    with db.transaction() as connection:
        return str(connection.execute(select(monitoring_profiles.c.fingerprint)).scalar_one())


def test_a_profile_without_the_multivariate_part_keeps_its_fingerprint_and_is_completed(
    db: Database, engine: DuckDBEngine
) -> None:
    engine.register("reference", window(4_000, 1))
    full = build_profile(engine, "reference")
    plain = build_profile(engine, "reference", multivariate=False)
    assert full.multivariate is not None and plain == replace(full, multivariate=None)
    store = SqlMonitoringStore(db)
    assert store.save_profile("churn", "3", plain, created_at=NOW) is True
    assert stored_fingerprint(db) == fingerprint(plain)  # the form it always had
    assert store.load_profile("churn", "3") == plain
    assert store.save_profile("churn", "3", plain, created_at=NOW) is False

    assert store.save_profile("churn", "3", full, created_at=NOW) is True  # completed
    assert store.load_profile("churn", "3") == full
    assert stored_fingerprint(db) == fingerprint(full)
    assert store.save_profile("churn", "3", full, created_at=NOW) is False
    assert store.save_profile("churn", "3", plain, created_at=NOW) is False  # nothing lost
    assert store.load_profile("churn", "3") == full

    engine.register("other", window(4_000, 2))
    with pytest.raises(Conflict, match=r"already has a different reference profile"):
        store.save_profile("churn", "3", build_profile(engine, "other"), created_at=NOW)
    assert store.load_profile("churn", "3") == full


def test_a_run_stores_both_multivariate_checks_with_their_evidence(
    db: Database, engine: DuckDBEngine
) -> None:
    engine.register("reference", window(4_000, 1))
    store = SqlMonitoringStore(db)
    assert store.save_profile("churn", "3", build_profile(engine, "reference"), created_at=NOW)
    engine.register("current", window(3_000, 3, rho=-0.7))
    actions = SEED_ACTIONS["alert_data_team"], SEED_ACTIONS["trigger_retraining_pipeline"]
    policy = MonitoringPolicy(
        "churn",
        (
            Threshold(DriftType.DATA, "reconstruction_error_rise", 0.1, 0.3, *actions),
            Threshold(DriftType.DATA, "domain_classifier_auc", 0.6, 0.7, *actions),
        ),
        Reporting(("data_team@example.org",)),
    )
    uows = SqlUnitsOfWork(db, SqlEventLog(db))
    outcome = run_checks(
        engine,
        uows,
        policy,
        version="3",
        table="current",
        window="2026-11-24",
        now=NOW,
    )
    with uows.read() as uow:
        stored = {c["metric"]: c for c in uow.monitoring.get_run(outcome.record.id).checks}
    assert {check["level"] for check in stored.values()} == {"critical"}
    rise, auc = stored["reconstruction_error_rise"], stored["domain_classifier_auc"]
    assert rise["pvalue"] < 1e-6 and auc["pvalue"] < 1e-6
    assert rise["details"]["columns"] == ["activity", "spend", "tenure"]
    assert rise["details"]["imputed_values"] > 0  # the NaN tenure
    assert auc["details"]["features"][0]["feature"] in {"activity", "spend"}
    assert rise["current_rows"] == auc["current_rows"] == 3_000


def test_the_reconstruction_error_agrees_on_duckdb_and_spark(tmp_path: Path, spark: Any) -> None:
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    window(5_000, 1).to_parquet(reference)
    window(4_000, 2, rho=0.3).to_parquet(current)
    with DuckDBEngine(tmp_path) as duck:
        duck.register("reference", reference)
        profile = build_profile(duck, "reference")
        duck.register("current", current)
        [on_duckdb] = measure_multivariate(
            duck, "current", profile, metrics={"reconstruction_error_rise"}, chunk_rows=1_000
        )
    on_spark_engine = SparkEngine(tmp_path, spark)
    on_spark_engine.register("current", current)
    [on_spark] = measure_multivariate(
        on_spark_engine,
        "current",
        profile,
        metrics={"reconstruction_error_rise"},
        chunk_rows=1_000,
    )
    assert on_spark.details["chunks"] == on_duckdb.details["chunks"] == 4
    assert on_spark.value == pytest.approx(on_duckdb.value, rel=1e-9)
    assert on_spark.pvalue == pytest.approx(on_duckdb.pvalue, rel=1e-6, abs=1e-12)
    assert on_duckdb.value is not None and on_duckdb.value > 0.2  # weaker correlation: more error
