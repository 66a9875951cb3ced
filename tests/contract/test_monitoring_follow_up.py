"""A run whose process dies between storing the run and taking its actions is finished by
the next call, each alert, action and incident exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lucid.monitoring.monitor import Monitoring
from lucid.registry.model_registry import ModelRegistry
from lucid.settings import AlertChannel
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.tables import monitoring_followups, monitoring_runs
from tests.contract import training_pipeline
from tests.contract.test_monitoring_actions import monitoring, profiled
from tests.monitoring_world import Clock, HttpReceiver


def counts(event_log: SqlEventLog) -> dict[str, int]:
    found: dict[str, int] = {}
    for event in event_log.read(limit=10_000):
        found[event.type] = found.get(event.type, 0) + 1
    return found


def every_action_once(service: Monitoring, event_log: SqlEventLog) -> None:
    taken = [e.payload["action"] for e in event_log.read(type="MonitoringActionTaken")]
    assert sorted(taken) == ["freeze", "investigate", "retrain", "rollback"]
    seen = counts(event_log)
    assert seen["ModelRolledBack"] == 1 and "RollbackRefused" not in seen
    assert seen["ModelFrozen"] == 1
    assert seen["IncidentOpened"] == 1 and "IncidentUpdated" not in seen
    assert seen["MonitoringRunRecorded"] == 1
    assert seen["AlertRaised"] == 2  # data_team and business_team, once each


def test_a_run_that_died_after_its_rollback_is_finished_once_by_the_next_run(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    channels = (AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),)
    service = monitoring(db, event_log, registry, engine, clock, channels)
    service.training_pipelines = {"churn": "tests.contract.training_pipeline:dies_once"}
    profiled(service, tenure_shift_sd=1.0, flip_labels=0.3)
    registry.observe("churn", 2, metric="retention_rate", value=0.77, period="2026-11", actor="bi")
    training_pipeline.DIE_NEXT[:] = [True]

    with pytest.raises(training_pipeline.ProcessDied):
        service.run("churn")

    # Stored and announced, alerts delivered, rollback and freeze taken; retraining and the
    # incident are owed.
    [(pending, _)] = service.store.pending_runs()
    assert pending.level == "critical"
    seen = counts(event_log)
    assert seen["MonitoringRunRecorded"] == 1 and seen["ModelRolledBack"] == 1
    assert "IncidentOpened" not in seen
    assert registry.production_version("churn").version == 1  # type: ignore[union-attr]
    assert len(receiver.received) == 2

    again = service.run("churn")

    assert again.resumed and not again.created and again.record.id == pending.id
    assert [a.action for a in again.actions] == ["retrain"]  # only what was owed
    assert again.incident is not None and again.incident.status == "open"
    every_action_once(service, event_log)
    assert registry.production_version("churn").version == 1  # type: ignore[union-attr]
    assert registry.get_version("churn", 3).registered_by == "monitoring"
    assert len(receiver.received) == 2  # every channel had taken its alert: nothing resent
    [resumed] = event_log.read(type="MonitoringFollowUpResumed")
    assert "retrain" in resumed.payload["steps"]
    assert service.store.pending_runs() == []
    # A third call finds the run followed up: the stored run, nothing taken.
    third = service.run("churn")
    assert not third.created and not third.resumed and third.actions == ()
    every_action_once(service, event_log)
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(monitoring_runs)).scalar_one() == 1
        steps = conn.execute(select(monitoring_followups.c.step)).scalars().all()
    assert sorted(steps) == ["freeze", "incident", "investigate", "retrain", "rollback"]


def test_resume_finishes_pending_runs_of_every_model_and_then_has_nothing_to_do(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    service.training_pipelines = {"churn": "tests.contract.training_pipeline:dies_once"}
    profiled(service, tenure_shift_sd=1.0)
    training_pipeline.DIE_NEXT[:] = [True]
    with pytest.raises(training_pipeline.ProcessDied):
        service.run("churn")
    [report] = service.resume()
    assert report.resumed and [a.action for a in report.actions] == ["retrain"]
    assert report.incident is not None
    assert service.resume() == []
    assert len(event_log.read(type="ModelRegistered", limit=100)) == 3  # v1, v2, retrained v3


def test_resume_refuses_a_bad_model_name(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    from lucid.errors import InvalidInput

    service = monitoring(db, event_log, registry, engine, clock)
    with pytest.raises(InvalidInput, match="name"):
        service.resume("Not A Name")
