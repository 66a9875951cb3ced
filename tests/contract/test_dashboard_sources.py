"""What the dashboard reads beyond the use cases, on SQLite and PostgreSQL: a model's runs in
window order with every check, and the stakeholders named in policies and contracts with
their access (the scorecard's transparency figure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lucid.access.tokens import Tokens
from lucid.bootstrap import utc_now
from lucid.contracts.validity import Measurement, MonitoringPolicy
from lucid.memory.transparency import StakeholderAccess
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.monitoring import SqlMonitoringRepository, SqlMonitoringStore
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_registry import register
from tests.monitoring_world import monitoring_for

DAY = datetime(2026, 11, 1, tzinfo=UTC)


def window(day: int) -> str:
    start = DAY + timedelta(days=day)
    end = start + timedelta(days=1)
    return f"{start:%Y-%m-%dT%H:%M:%S}.000000Z/{end:%Y-%m-%dT%H:%M:%S}.000000Z"


def test_runs_come_in_window_order_with_every_check(db: Database) -> None:
    store = SqlMonitoringStore(db)
    policy = MonitoringPolicy.churn_default("churn")
    # Recorded out of order; PSI 0.05 / 0.15 / 0.3 grade ok / warning / critical.
    for day, psi in ((2, 0.3), (0, 0.05), (1, 0.15)):
        evaluation = policy.evaluate(
            [
                Measurement("psi", psi, feature="tenure"),
                Measurement("accuracy_drop", 0.0),
                Measurement("business_metric_drop", 0.0),
            ]
        )
        with db.transaction() as connection:
            SqlMonitoringRepository(connection).add_run(
                policy, "1", window(day), evaluation, measured_at=DAY
            )
    runs = store.runs("churn")
    assert [run.window for run in runs] == [window(0), window(1), window(2)]
    assert [run.level for run in runs] == ["ok", "warning", "critical"]
    psi = [next(c for c in run.checks if c["metric"] == "psi") for run in runs]
    assert [(c["value"], c["warning"], c["critical"]) for c in psi] == [
        (0.05, 0.1, 0.2),
        (0.15, 0.1, 0.2),
        (0.3, 0.1, 0.2),
    ]
    assert all([c["position"] for c in run.checks] == [0, 1, 2] for run in runs)
    assert [run.window for run in store.runs("churn", limit=2)] == [window(1), window(2)]
    assert store.runs("other") == []


def test_transparency_counts_policy_stakeholders_alerted_teams_and_model_owners(
    db: Database, event_log: SqlEventLog, tmp_path: Path
) -> None:
    registry = ModelRegistry(
        SqlUnitsOfWork(db, event_log),
        event_log,
        ArtifactStore(str(tmp_path / "artifacts")),
        HuggingFaceHub(offline=True, cache_dir=tmp_path / "hf"),
        clock=utc_now,
    )
    access = StakeholderAccess(SqlUnitsOfWork(db, event_log), registry)
    assert access.stakeholders() == [] and access.transparency_pct() is None
    register(registry, by="ana")
    monitoring = monitoring_for(
        db,
        event_log,
        lambda: None,  # type: ignore[arg-type,return-value]
        lambda: registry,
        clock=lambda: datetime.now(UTC),
    )
    policy = MonitoringPolicy.churn_default("churn")
    monitoring.set_policy(policy, actor="dana", rationale="watch churn")
    assert access.stakeholders() == [
        "data_team@company.com",
        "product_team@company.com",
        "business_team@company.com",
        "business_team",
        "data_team",
        "ana",
    ]
    assert access.transparency_pct() == 0.0
    tokens = Tokens(SqlUnitsOfWork(db, event_log), clock=utc_now)
    tokens.create(person="ana", role="viewer", teams=[], actor="admin", rationale="reads")
    tokens.create(
        person="mia", role="approver", teams=["data_team"], actor="admin", rationale="approves"
    )
    tokens.create(
        person="data_team@company.com", role="viewer", teams=[], actor="admin", rationale="list"
    )
    assert access.transparency_pct() == 50.0
    # A revoked token no longer counts.
    revoked = next(t for t in tokens.list() if t["person"] == "data_team@company.com")
    tokens.revoke(revoked["id"], actor="admin", rationale="left")
    assert access.transparency_pct() == 100.0 * 2 / 6
