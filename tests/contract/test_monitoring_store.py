"""Reference profiles and monitoring runs on SQLite and PostgreSQL, and a full run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from lucid.contracts.validity import Level, MonitoringPolicy, ThresholdApproval
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import Conflict, Forbidden, NotFound
from lucid.monitoring.performance import business_metric_drop
from lucid.monitoring.policy_changes import change_threshold
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import run_checks
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.monitoring import SqlMonitoringStore
from lucid.storage.tables import monitoring_checks, monitoring_runs
from lucid.storage.unit_of_work import SqlUnitsOfWork

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def churn_window(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pd.DataFrame:
    score = rng.beta(2, 5, rows)
    return pd.DataFrame(
        {
            "tenure": rng.normal(24 + shift * 12, 12, rows),
            "plan": rng.choice(["free", "pro", "team"], rows, p=[0.6, 0.3, 0.1]),
            "score": score,
            "churned": (rng.random(rows) < score).astype(int),
        }
    )


def stored_profile(engine: DuckDBEngine, store: SqlMonitoringStore) -> ReferenceProfile:
    engine.register("reference", churn_window(np.random.default_rng(1), 4000))
    profile = build_profile(
        engine, "reference", segment_column="plan", label="churned", score="score"
    )
    assert store.save_profile("churn", "3", profile, created_at=NOW) is True
    return profile


def test_a_profile_round_trips_once_per_version(db: Database, engine: DuckDBEngine) -> None:
    store = SqlMonitoringStore(db)
    profile = stored_profile(engine, store)
    assert store.load_profile("churn", "3") == profile
    assert store.save_profile("churn", "3", profile, created_at=NOW) is False
    engine.register("other", churn_window(np.random.default_rng(2), 1000))
    different = build_profile(engine, "other")
    with pytest.raises(Conflict, match=r"Model churn version 3 already has a different reference"):
        store.save_profile("churn", "3", different, created_at=NOW)
    with pytest.raises(NotFound, match=r"Model churn version 4 has no reference profile"):
        store.load_profile("churn", "4")


def test_a_run_stores_every_check_and_is_idempotent_per_window(
    db: Database, engine: DuckDBEngine
) -> None:
    """Data drift at warning and business drift at critical: both reported, rollback asked
    (the seed's checkDrift would have stopped at the first)."""
    store = SqlMonitoringStore(db)
    stored_profile(engine, store)
    engine.register("current", churn_window(np.random.default_rng(3), 3000, shift=0.35))
    policy = MonitoringPolicy.churn_default("churn")
    outcome = run_checks(
        engine,
        SqlUnitsOfWork(db, SqlEventLog(db)),
        policy,
        version="3",
        table="current",
        window="2026-11-24",
        labelled=True,
        extra=[business_metric_drop(0.80, 0.78)],
        now=NOW,
    )
    assert outcome.created and outcome.evaluation is not None
    record = outcome.record
    levels = {(c["metric"], c["feature"], c["segment"]): c["level"] for c in record.checks}
    assert levels["psi", "tenure", None] == "warning"
    assert levels["business_metric_drop", None, None] == "critical"
    assert levels["accuracy_drop", "score", None] == "ok"
    assert ("psi", "tenure", "plan=pro") in levels  # per segment, named
    assert ("accuracy_drop", "score", "plan=team") in levels
    assert record.level == "critical"
    # critical actions come first, then the warning ones
    assert record.actions.index("rollback") < record.actions.index("alert:data_team")
    assert len(record.checks) == len(outcome.evaluation.checks)
    psi_check = next(c for c in record.checks if c["metric"] == "psi")
    assert psi_check["expected_no_drift"] == pytest.approx((1 / 4000 + 1 / 3000) * 9)

    again = run_checks(
        engine,
        SqlUnitsOfWork(db, SqlEventLog(db)),
        policy,
        version="3",
        table="current",
        window="2026-11-24",
        now=NOW,
    )
    assert not again.created and again.evaluation is None
    assert again.record == record
    with db.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(monitoring_runs)).scalar() == 1
        stored_checks = connection.execute(
            select(func.count()).select_from(monitoring_checks)
        ).scalar()
    assert stored_checks == len(record.checks)
    assert store.find_run("churn", "2026-11-25") is None


def test_a_window_without_labels_reports_performance_as_insufficient_or_estimated(
    db: Database, engine: DuckDBEngine
) -> None:
    store = SqlMonitoringStore(db)
    stored_profile(engine, store)
    engine.register("current", churn_window(np.random.default_rng(4), 3000))
    policy = MonitoringPolicy.churn_default("churn")
    outcome = run_checks(
        engine,
        SqlUnitsOfWork(db, SqlEventLog(db)),
        policy,
        version="3",
        table="current",
        window="w1",
        now=NOW,
    )
    assert outcome.evaluation is not None
    by_metric = {c.threshold.metric: c.level for c in outcome.evaluation.checks}
    # no labels yet and no business observation: not judged, and never OK
    assert by_metric["accuracy_drop"] is Level.INSUFFICIENT_DATA
    assert by_metric["business_metric_drop"] is Level.INSUFFICIENT_DATA
    assert outcome.evaluation.level is Level.INSUFFICIENT_DATA


def test_a_threshold_change_is_recorded_with_its_rationale(
    db: Database, event_log: SqlEventLog
) -> None:
    policy = MonitoringPolicy.churn_default("churn")
    looser = replace(policy.thresholds[0], warning=0.15, critical=0.25)
    approvals = [ThresholdApproval("data_team", "bo"), ThresholdApproval("business_team", "cy")]
    changed, recorded = change_threshold(
        SqlUnitsOfWork(db, event_log),
        policy,
        looser,
        proposer="ana",
        rationale="seasonal traffic makes PSI 0.1 fire every Monday",
        approvals=approvals,
    )
    assert changed.thresholds[0].critical == 0.25
    [stored] = event_log.read(type="ThresholdChanged")
    assert stored == recorded
    assert stored.subject == "model:churn"
    assert stored.actor == "ana"
    assert stored.rationale == "seasonal traffic makes PSI 0.1 fire every Monday"
    assert stored.payload["after"]["warning"] == 0.15
    with pytest.raises(Forbidden):
        change_threshold(
            SqlUnitsOfWork(db, event_log),
            policy,
            looser,
            proposer="ana",
            rationale="again",
            approvals=approvals[:1],
        )
    assert event_log.count() == 1
    assert event_log.verify().ok
