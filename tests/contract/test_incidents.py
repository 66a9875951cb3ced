"""Incidents of the learning loop on SQLite and PostgreSQL, through the SDK.

The issue's full loop on a small model: drift → incident → diagnosis → proposals →
experiment → promotion with evidence → checkpoints → lesson → incident closed; the event log
verifies and the scorecard's incident figures change as expected at each step. Refusals
(closing without a lesson, an unknown root cause, a step out of order) leave the incidents
table and the event log exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lucid.contracts.events import parse_time
from lucid.contracts.experiments import CHALLENGER, CONTROL
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.experiments.lab import Experiments
from lucid.memory.incident_lifecycle import Incidents
from lucid.memory.loop import LearningLoop
from lucid.memory.retrospective import incident_trend
from lucid.registry.model_registry import ModelRegistry
from lucid.settings import AlertSettings
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.tables import monitoring_incidents
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_experiments import ENTITIES, outcomes
from tests.contract.test_registry import register, to_production
from tests.monitoring_world import DAY1, DAY2, DAY3, Clock, monitoring_for, prediction_rows

INCIDENT_KEYS = (
    "detection_delay_days",
    "time_to_recovery_days",
    "critical_incidents_undetected",
    "failures_documented_pct",
    "repeated_errors",
)


@pytest.fixture
def registry(db: Database, event_log: SqlEventLog, tmp_path: Path, clock: Clock) -> ModelRegistry:
    registry = ModelRegistry(
        SqlUnitsOfWork(db, event_log),
        event_log,
        ArtifactStore(str(tmp_path / "artifacts")),
        HuggingFaceHub(offline=True, cache_dir=tmp_path / "hf"),
        approvers=["bea"],
        clock=clock,
    )
    register(registry)
    to_production(registry, 1)
    register(registry)
    to_production(registry, 2)
    return registry


@pytest.fixture
def incidents(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, lab: Experiments, clock: Clock
) -> Incidents:
    return Incidents(
        SqlUnitsOfWork(db, event_log),
        event_log,
        registry=lambda: registry,
        experiments=lambda: lab,
        clock=clock,
    )


@pytest.fixture
def unchanged(db: Database, event_log: SqlEventLog) -> Callable[[], Any]:
    def snapshot() -> Any:
        with db.transaction() as conn:
            rows = sorted(map(tuple, conn.execute(select(monitoring_incidents))))
        return rows, event_log.count()

    @contextmanager
    def check() -> Iterator[None]:
        before = snapshot()
        yield
        assert snapshot() == before

    return check


def diagnose(incidents: Incidents, incident_id: str, cause: str = "data_drift") -> Any:
    return incidents.diagnose(
        incident_id,
        root_cause=cause,
        details="tenure moved after the pricing change",
        participants=["data-science", "ana (marketing)"],
        actor="ana",
    )


# -- the store and its refusals, on both backends -------------------------------------------


def test_an_incident_opened_by_hand_goes_through_its_lifecycle(
    incidents: Incidents, event_log: SqlEventLog, clock: Clock
) -> None:
    opened = incidents.open("churn", summary="complaints doubled", level="critical", actor="bo")
    assert opened.status.value == "open" and opened.opened_by == "bo"
    assert opened.opened_at == opened.window_start == "2026-11-03T02:00:00.000000Z"
    incidents.acknowledge(opened.id, actor="ana")
    diagnosed = diagnose(incidents, opened.id)
    assert diagnosed.participants == ("data-science", "ana (marketing)")
    incidents.propose(opened.id, ["retrain on recent data", "add a tenure bucket"], actor="ana")
    incidents.record_lesson(opened.id, "first draft", actor="ana")
    incidents.record_lesson(opened.id, "tenure needs a drift check", actor="ana")
    clock.now += timedelta(days=2)
    closed = incidents.resolve(opened.id, resolution="retrained", actor="ana")
    stored = incidents.get(opened.id)
    assert stored == closed
    assert stored.to_dict() | {"id": "x"} == {
        "id": "x",
        "model": "churn",
        "status": "closed",
        "level": "critical",
        "opened_at": "2026-11-03T02:00:00.000000Z",
        "window_start": "2026-11-03T02:00:00.000000Z",
        "last_run_id": None,
        "recovered_at": None,
        "summary": "complaints doubled",
        "opened_by": "bo",
        "acknowledged_by": "ana",
        "acknowledged_at": "2026-11-03T02:00:00.000000Z",
        "root_cause": "data_drift",
        "diagnosis": "tenure moved after the pricing change",
        "participants": ["data-science", "ana (marketing)"],
        "proposals": ["retrain on recent data", "add a tenure bucket"],
        "experiment_id": None,
        "resolution": "retrained",
        "lesson": "tenure needs a drift check",
        "closed_at": "2026-11-05T02:00:00.000000Z",
        "repeated_of": None,
    }
    kinds = [e.type for e in event_log.read(subject="model:churn", limit=1000)]
    assert kinds[-7:] == [
        "IncidentReported",
        "IncidentAcknowledged",
        "IncidentDiagnosed",
        "ProposalsRecorded",
        "LessonRecorded",
        "LessonRecorded",
        "IncidentClosed",
    ]
    assert [i.id for i in incidents.list(status="closed")] == [opened.id]
    assert incidents.list(model="fraud") == [] and incidents.list(status="open") == []
    assert event_log.verify().ok


def test_refusals_are_sentences_and_change_nothing(
    incidents: Incidents, unchanged: Callable[[], Any], lab: Experiments, registry: ModelRegistry
) -> None:
    opened = incidents.open("churn", summary="s", level="warning", actor="bo")
    with unchanged():
        with pytest.raises(Conflict, match=r"already has incident .* not closed"):
            incidents.open("churn", summary="again", level="warning", actor="bo")
        with pytest.raises(NotFound, match="No model named fraud"):
            incidents.open("fraud", summary="s", level="warning", actor="bo")
        with pytest.raises(InvalidInput, match=r"level: .* is not one of warning, critical"):
            incidents.open("churn", summary="s", level="bad", actor="bo")
        with pytest.raises(Conflict, match="is open: diagnose needs it to be acknowledged or"):
            diagnose(incidents, opened.id)
        with pytest.raises(NotFound, match="No incident has the id nope"):
            incidents.acknowledge("nope", actor="ana")
        with pytest.raises(InvalidInput, match="status: 'shut' is not an incident status"):
            incidents.list(status="shut")
    incidents.acknowledge(opened.id, actor="ana")
    with unchanged():
        with pytest.raises(InvalidInput, match="root_cause: 'bad luck' is not a known"):
            diagnose(incidents, opened.id, cause="bad luck")
        with pytest.raises(InvalidInput, match="participants: a diagnosis is shared"):
            incidents.diagnose(
                opened.id, root_cause="data_drift", details="d", participants=[], actor="ana"
            )
        with pytest.raises(Conflict, match="is acknowledged: acknowledge needs it to be open"):
            incidents.acknowledge(opened.id, actor="ana")
    diagnose(incidents, opened.id)
    with unchanged():
        with pytest.raises(InvalidInput, match="proposals: must be 2 or 3"):
            incidents.propose(opened.id, ["retrain"], actor="ana")
        with pytest.raises(Conflict, match="cannot close without a lesson"):
            incidents.resolve(opened.id, resolution="fixed", actor="ana")
    incidents.propose(opened.id, ["retrain", "new features"], actor="ana")
    register(registry)
    registry.promote("churn", 3, "challenger", actor="ana", rationale="A/B")
    lab.create(
        "churn-v3-ab",
        model="churn",
        challenger=3,
        minimum_detectable_effect=0.05,
        actor="eve",
        rationale="v3?",
    )
    with unchanged(), pytest.raises(NotFound, match="No experiment named ghost-ab"):
        incidents.link_experiment(opened.id, "ghost-ab", actor="ana")
    linked = incidents.link_experiment(opened.id[:8], "churn-v3", actor="ana")  # by their start
    assert linked.status.value == "experimenting" and linked.experiment_id == "churn-v3-ab"


def test_a_root_cause_seen_before_is_flagged_with_the_earlier_lesson(
    incidents: Incidents, clock: Clock
) -> None:
    first = incidents.open("churn", summary="s", level="warning", actor="bo")
    incidents.acknowledge(first.id, actor="ana")
    diagnose(incidents, first.id)
    incidents.record_lesson(first.id, "watch tenure", actor="ana")
    incidents.resolve(first.id, resolution="retrained", actor="ana")
    clock.now += timedelta(days=20)
    second = incidents.open("churn", summary="again", level="warning", actor="bo")
    incidents.acknowledge(second.id, actor="ana")
    other = diagnose(incidents, second.id, cause="pipeline_failure")
    assert other.repeated_of is None
    again = diagnose(incidents, second.id)  # a revised diagnosis: the same cause as before
    assert again.repeated_of is not None
    assert again.repeated_of.to_dict() == {"incident_id": first.id, "lesson": "watch tenure"}
    assert incidents.get(second.id).repeated_of == again.repeated_of
    assert incidents.incident_figures().repeated_errors == 1


# -- the full loop -------------------------------------------------------------------


def test_the_full_loop_from_drift_to_a_closed_incident_moves_the_scorecard(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    lab: Experiments,
    incidents: Incidents,
    clock: Clock,
) -> None:
    from lucid.engines.duckdb import DuckDBEngine

    loop = LearningLoop(SqlUnitsOfWork(db, event_log), registry, incidents=incidents, clock=clock)

    def figures() -> tuple[Any, ...]:
        card = loop.scorecard().to_dict()
        return tuple(card[key] for key in INCIDENT_KEYS)

    with DuckDBEngine() as engine:
        monitoring = monitoring_for(
            db,
            event_log,
            lambda: engine,
            lambda: registry,
            alert_settings=AlertSettings(),
            clock=clock,
            sleep=clock.sleep,
        )
        reference, ref_outcomes = prediction_rows(DAY1, 2000, seed=1)
        shifted, cur_outcomes = prediction_rows(DAY2, 2000, seed=2, tenure_shift_sd=0.38)
        monitoring.log_predictions("churn", 2, reference + shifted)
        monitoring.log_outcomes("churn", ref_outcomes + cur_outcomes)
        monitoring.build_profile("churn", 2, start=DAY1, end=DAY2)

        assert figures() == (None, None, None, None, None)
        # The drill's referee knows when the world shifted: at the start of DAY2.
        incidents.declare_shift(DAY2, description="tenure +0.38 sd", actor="referee")
        assert figures() == (None, None, 1, None, None)  # not detected yet

        # drift → incident
        report = monitoring.run("churn")
        assert report.record.level == "warning" and report.incident is not None
        incident_id = report.incident.id
        delay = 26 / 24  # DAY2 00:00 → detected at DAY3 02:00
        assert figures() == (pytest.approx(delay), None, 0, 0.0, 0)
        assert incidents.get(incident_id).last_run_id == report.record.id

        # acknowledged → diagnosis → proposals
        incidents.acknowledge(incident_id, actor="ana")
        diagnose(incidents, incident_id)
        incidents.propose(
            incident_id,
            ["retrain on the shifted window", "add a tenure bucket feature", "gradient boosting"],
            actor="ana",
        )
        assert figures() == (pytest.approx(delay), None, 0, 0.0, 0)

        # experiment → evidence → promotion through the gate → checkpoints
        register(registry, offline_metrics={"auc": 0.84})
        registry.promote("churn", 3, "challenger", actor="ana", rationale="test proposal 1")
        design = lab.create(
            "churn-v3-ab",
            model="churn",
            challenger=3,
            minimum_detectable_effect=0.05,
            actor="eve",
            rationale="does the retrained v3 retain more?",
        )
        incidents.link_experiment(incident_id, "churn-v3-ab", actor="eve")
        lab.expose("churn-v3-ab", [{"entity_id": e} for e in ENTITIES], actor="serving")
        lab.record_outcomes(
            "churn-v3-ab",
            outcomes(ENTITIES, design.salt, {CONTROL: 0.80, CHALLENGER: 0.90}),
            actor="crm",
        )
        lab.conclude("churn-v3-ab", actor="eve", rationale="v3 retains more")
        deployment = loop.deploy(
            "churn",
            3,
            hypotheses=[{"description": "retention back above 0.82", "expected_impact": 0.03}],
            actor="ana",
            rationale=f"incident {incident_id}: the A/B test proved the retrained model",
        )
        assert figures() == (pytest.approx(delay), None, 0, 0.0, 0)

        # the metric back inside its band: an OK run of the new version
        clock.now = DAY3 + timedelta(days=1, hours=2)
        v3_reference, v3_outcomes = prediction_rows(DAY1, 2000, seed=1, prefix="r")
        same, same_outcomes = prediction_rows(DAY3, 2000, seed=3, prefix="s")
        monitoring.log_predictions("churn", 3, v3_reference + same)
        monitoring.log_outcomes("churn", v3_outcomes + same_outcomes)
        monitoring.build_profile("churn", 3, start=DAY1, end=DAY2)
        registry.observe("churn", 3, metric="retention_rate", value=0.84, period="d3", actor="bi")
        recovered = monitoring.run("churn", start=DAY3, end=DAY3 + timedelta(days=1, seconds=-1))
        assert recovered.record.level == "ok"
        assert incidents.get(incident_id).recovered_at == "2026-11-04T02:00:00.000000Z"
        assert incidents.get(incident_id).status.value == "experimenting"  # a fact, no step
        assert figures() == (pytest.approx(delay), pytest.approx(1.0), 0, 0.0, 0)

        deployed_at = parse_time(deployment.deployed_at)
        judged = loop.run_checkpoints(at=deployed_at + timedelta(days=31), actor="cron")
        assert [(c.days, c.outcome) for c in judged] == [(30, "held")]

        # lesson → closed
        with pytest.raises(Conflict, match="cannot close without a lesson"):
            incidents.resolve(incident_id, resolution="v3 in production", actor="ana")
        incidents.record_lesson(
            incident_id, "tenure drifts with pricing changes: retrain after each", actor="ana"
        )
        assert figures() == (pytest.approx(delay), pytest.approx(1.0), 0, 0.0, 0)
        incidents.resolve(incident_id, resolution="v3 in production", actor="ana")
        assert figures() == (pytest.approx(delay), pytest.approx(1.0), 0, 100.0, 0)

        # the world shifts again: a new incident (the closed one stays closed), a repeated error
        clock.now = DAY3 + timedelta(days=3, hours=2)
        incidents.declare_shift(DAY3 + timedelta(days=2), description="again", actor="referee")
        assert figures()[2] == 1
        again, again_outcomes = prediction_rows(
            DAY3 + timedelta(days=2), 2000, seed=4, tenure_shift_sd=0.5, prefix="t"
        )
        monitoring.log_predictions("churn", 3, again)
        monitoring.log_outcomes("churn", again_outcomes)
        second = monitoring.run("churn")
        assert second.incident is not None and second.incident.id != incident_id
        assert incidents.get(incident_id).status.value == "closed"
        incidents.acknowledge(second.incident.id, actor="ana")
        flagged = diagnose(incidents, second.incident.id)
        assert flagged.repeated_of is not None
        assert flagged.repeated_of.incident_id == incident_id
        assert figures() == (pytest.approx((delay + 26 / 24) / 2), pytest.approx(1.0), 0, 50.0, 1)

    # The retrospective's trend: the same figures, recomputed from the log as it stood then.
    trend = incident_trend(event_log, DAY1, clock.now, points=4)
    assert trend[0][0] == "2026-11-01T00:00:00.000000Z"
    assert trend[0][1].failures_documented_pct is None  # nothing had happened yet
    assert trend[-1][1] == incidents.incident_figures()

    assert event_log.verify().ok
    kinds = [e.type for e in event_log.read(subject="model:churn", limit=10_000)]
    for kind in (
        "IncidentOpened",
        "IncidentAcknowledged",
        "IncidentDiagnosed",
        "ProposalsRecorded",
        "ExperimentLinked",
        "ModelDeployed",
        "IncidentUpdated",
        "CheckpointEvaluated",
        "LessonRecorded",
        "IncidentClosed",
    ):
        assert kind in kinds


def test_migrating_keeps_incidents_and_makes_recovery_a_fact(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from lucid.storage import schema
    from lucid.storage.incidents import SqlIncidentRepository

    db = Database(database_url)
    try:
        config = schema._alembic_config()
        with db.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
            connection.commit()
        with db.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO monitoring_incidents VALUES ('i1', 'churn', 'recovered', "
                    "'warning', '2026-11-03T02:00:00.000000Z', '2026-11-02T00:00:00.000000Z', "
                    "'run-1', '2026-11-04T02:00:00.000000Z')"
                )
            )
        assert schema.upgrade(db) == ("0009", schema.head_revision())
        with db.transaction() as conn:
            stored = SqlIncidentRepository(conn).get("i1")
        assert stored is not None
        assert (stored.status.value, stored.recovered_at) == ("open", "2026-11-04T02:00:00.000000Z")
        assert (stored.last_run_id, stored.lesson, stored.proposals) == ("run-1", None, ())
    finally:
        db.dispose()
