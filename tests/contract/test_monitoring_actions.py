"""The validity contract on a project, on SQLite and PostgreSQL: logged predictions and
outcomes, runs over windows, alerts delivered to real loopback receivers (HTTP, SMTP), and
freeze / rollback / retrain actually taken through the registry.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lucid.contracts.validity import Level, MonitoringPolicy, Threshold, ThresholdApproval
from lucid.contracts.value import Stage
from lucid.errors import Conflict, Forbidden, InvalidInput, NotFound
from lucid.monitoring.monitor import Monitoring
from lucid.registry.model_registry import ModelRegistry
from lucid.settings import AlertChannel, AlertSettings
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.tables import monitoring_runs, outcome_log, prediction_log
from tests.contract import training_pipeline
from tests.contract.test_registry import register
from tests.monitoring_world import (
    DAY1,
    DAY2,
    DAY3,
    Clock,
    HttpReceiver,
    adopt_churn_policy,
    monitoring_for,
    prediction_rows,
    smtp_receiver,
)


def monitoring(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    channels: tuple[AlertChannel, ...] = (),
    **settings: Any,
) -> Monitoring:
    return monitoring_for(
        db,
        event_log,
        lambda: engine,
        lambda: registry,
        alert_settings=AlertSettings(channels=channels, backoff_seconds=0.5, **settings),
        training_pipelines={"churn": "tests.contract.training_pipeline:train"},
        clock=clock,
        sleep=clock.sleep,
    )


def profiled(service: Monitoring, **shift: Any) -> None:
    """v2 logged over DAY1 (reference, profiled) and DAY2 (current, shifted as asked)."""
    reference, ref_outcomes = prediction_rows(DAY1, 2000, seed=1)
    current, cur_outcomes = prediction_rows(DAY2, 2000, seed=2, **shift)
    service.log_predictions("churn", 2, reference + current)
    service.log_outcomes("churn", ref_outcomes + cur_outcomes)
    service.build_profile("churn", 2, start=DAY1, end=DAY2)
    adopt_churn_policy(service)


def types(event_log: SqlEventLog) -> list[str]:
    return [e.type for e in event_log.read(subject="model:churn", limit=10_000)]


def test_data_warning_and_business_critical_are_both_reported_and_the_rollback_fires(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
) -> None:
    """The seed's defect not repeated: its checkDrift returned at the first non-OK check."""
    channels = (
        AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),
        AlertChannel(
            name="slack", kind="slack", url=receiver.url + "/slack", targets=("business_team",)
        ),
    )
    service = monitoring(db, event_log, registry, engine, clock, channels)
    profiled(service, tenure_shift_sd=0.38)
    registry.observe("churn", 2, metric="retention_rate", value=0.77, period="2026-11", actor="bi")

    report = service.run("churn")

    assert report.created and report.evaluation is not None
    levels = {(c["threshold"], c["feature"]): c["level"] for c in report.record.checks}
    assert levels[("psi", "tenure")] == "warning"
    assert levels[("business_metric_drop", "retention_rate")] == "critical"
    assert levels[("psi", "activity")] == "ok"
    assert report.record.level == "critical"
    assert report.record.actions[0] == "rollback"
    assert "alert:data_team" in report.record.actions
    # Stored: the run and every check, readable again.
    stored = service.store.find_run("churn", report.record.window)
    assert stored == report.record
    # The rollback really happened, and the events say why.
    serving = registry.production_version("churn")
    assert serving is not None and serving.version == 1
    rolled = [e for e in event_log.read(type="ModelRolledBack", limit=100)]
    assert len(rolled) == 1 and rolled[0].actor == "monitoring"
    assert "business_metric_drop[retention_rate]=critical" in rolled[0].rationale
    assert "psi[tenure]=warning" in rolled[0].rationale
    taken = {a.action: a.outcome for a in report.actions}
    assert taken == {"rollback": "done"}
    # The critical business check alerts the team its warning names, at critical.
    assert {(a.alert.target, a.alert.level) for a in report.alerts} == {
        ("business_team", "critical"),
        ("data_team", "warning"),
    }
    # Both teams alerted, on the channels they are configured for.
    paths = sorted(path for path, _ in receiver.received)
    assert paths == ["/hook", "/hook", "/slack"]
    slack = next(body for path, body in receiver.received if path == "/slack")
    assert set(slack) == {"text"} and "CRITICAL churn" in slack["text"]
    kinds = types(event_log)
    for expected in ("MonitoringRunRecorded", "AlertRaised", "AlertDeliveryAttempted"):
        assert expected in kinds
    assert kinds.count("MonitoringActionTaken") == 1 and kinds.count("IncidentOpened") == 1


def test_a_window_is_run_once(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service, tenure_shift_sd=1.0)
    first = service.run("churn")
    count = event_log.count()
    again = service.run("churn")
    assert first.created and not again.created and again.record == first.record
    assert event_log.count() == count
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(monitoring_runs)).scalar_one() == 1


def test_critical_data_drift_retrains_and_registers_a_candidate_with_the_contract(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    training_pipeline.CALLS.clear()
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service, tenure_shift_sd=1.0)
    report = service.run("churn")
    assert report.record.level == "critical"
    assert {a.action: a.outcome for a in report.actions} == {"retrain": "done"}
    assert len(training_pipeline.CALLS) == 1 and training_pipeline.CALLS[0].version == "2"
    candidate = registry.get_version("churn", 3)
    assert candidate.stage is Stage.CANDIDATE and candidate.registered_by == "monitoring"
    assert candidate.impact == registry.get_version("churn", 2).impact
    assert candidate.offline_metrics == {"auc": 0.81}
    assert registry.production_version("churn").version == 2  # type: ignore[union-attr]


def test_a_retrained_candidate_still_waiting_is_not_retrained_again_the_next_day(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    training_pipeline.CALLS.clear()
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service, tenure_shift_sd=1.0)
    clock.now = DAY3 + timedelta(hours=1)
    assert {a.action: a.outcome for a in service.run("churn").actions} == {"retrain": "done"}
    later, _ = prediction_rows(DAY3, 2000, seed=3, tenure_shift_sd=1.0, prefix="d3")
    service.log_predictions("churn", 2, later)
    clock.now = DAY3 + timedelta(days=1, hours=1)
    [skipped] = service.run("churn").actions
    assert (skipped.action, skipped.outcome) == ("retrain", "skipped")
    assert skipped.detail == ("churn@3, retrained by monitoring from churn@2, is still a candidate")
    assert len(training_pipeline.CALLS) == 1
    assert [v.version for v in registry.versions("churn")] == [1, 2, 3]


def test_a_failing_training_pipeline_is_recorded_not_raised(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    service.training_pipelines = {"churn": "tests.contract.training_pipeline:broken"}
    profiled(service, tenure_shift_sd=1.0)
    report = service.run("churn")
    [result] = report.actions
    assert result.outcome == "failed" and "the feature table is missing" in result.detail
    [event] = event_log.read(type="MonitoringActionTaken")
    assert event.payload["outcome"] == "failed"


def test_a_critical_accuracy_drop_freezes_promotions(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service, flip_labels=0.3)
    report = service.run("churn")
    levels = {c["threshold"]: c["level"] for c in report.record.checks}
    assert levels["accuracy_drop"] == "critical"
    assert {a.action for a in report.actions} == {"freeze", "investigate"}
    [summary] = registry.list_models()
    assert summary.frozen_reason is not None and "accuracy_drop" in summary.frozen_reason
    register(registry)
    with pytest.raises(Conflict, match="frozen"):
        registry.promote("churn", 3, "challenger", actor="ana", rationale="try")
    [frozen] = event_log.read(type="ModelFrozen")
    assert frozen.payload["source"] == "monitoring"


def test_alerts_reach_http_smtp_and_pagerduty_and_a_failing_receiver_is_retried(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
) -> None:
    with smtp_receiver() as smtp:
        channels = (
            AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),
            AlertChannel(name="broken", kind="webhook", url=receiver.url + "/fail"),
            AlertChannel(
                name="mail",
                kind="email",
                smtp_host=smtp.host,
                smtp_port=smtp.port,
                smtp_security="none",  # a loopback relay without TLS or login
                sender="lucid@example.com",
                recipients=("data_team@example.com",),
            ),
            AlertChannel(
                name="pager", kind="pagerduty", url=receiver.url + "/pd", routing_key="R0UT1NG"
            ),
        )
        service = monitoring(db, event_log, registry, engine, clock, channels)
        policy = MonitoringPolicy.churn_default("churn")
        psi = policy.thresholds[0]
        runbook = Threshold(
            psi.drift_type,
            "psi",
            psi.warning,
            psi.critical,
            psi.warning_actions,
            psi.critical_actions,
            runbook="https://runbooks.example.com/psi",
        )
        service.set_policy(
            policy.with_thresholds([runbook, *policy.thresholds[1:]]),
            actor="ana",
            rationale="churn policy with its runbook",
        )
        profiled(service, tenure_shift_sd=0.38)
        report = service.run("churn")
        [alert] = report.alerts
        assert alert.alert.target == "data_team" and alert.alert.level == "warning"
        delivered = {d.channel: (d.delivered, d.attempts) for d in alert.deliveries}
        assert delivered == {
            "hook": (True, 1),
            "broken": (False, 3),
            "mail": (True, 1),
            "pager": (True, 1),
        }
        [mail] = smtp.messages
        assert "WARNING churn" in mail["Subject"]
        assert "https://runbooks.example.com/psi" in mail.get_payload()
    [(_, hook)] = [item for item in receiver.received if item[0] == "/hook"]
    assert hook["runbooks"] == ["https://runbooks.example.com/psi"]
    [(_, pd)] = [item for item in receiver.received if item[0] == "/pd"]
    assert pd["routing_key"] == "R0UT1NG" and pd["event_action"] == "trigger"
    assert pd["payload"]["severity"] == "warning" and pd["payload"]["source"] == "lucid:churn"
    assert pd["links"] == [{"href": "https://runbooks.example.com/psi", "text": "runbook"}]
    assert len([p for p, _ in receiver.received if p == "/fail"]) == 3
    attempts = service.deliveries(alert.alert.id)
    failed = [a for a in attempts if a["channel"] == "broken"]
    assert [(a["attempt"], a["delivered"]) for a in failed] == [(1, False), (2, False), (3, False)]
    assert all("HTTP 500" in a["detail"] for a in failed)
    assert clock.sleeps == [0.5, 1.0]  # backoff doubles between attempts
    recorded = event_log.read(type="AlertDeliveryAttempted", limit=100)
    assert len(recorded) == 6


def test_unacknowledged_alerts_escalate_and_acknowledged_ones_do_not(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    receiver: HttpReceiver,
) -> None:
    channels = (
        AlertChannel(name="hook", kind="webhook", url=receiver.url + "/hook"),
        AlertChannel(name="pager", kind="pagerduty", url=receiver.url + "/pd", routing_key="k"),
    )
    service = monitoring(
        db, event_log, registry, engine, clock, channels, escalate_after_minutes=30
    )
    profiled(service, tenure_shift_sd=0.38)
    [alert] = service.run("churn").alerts
    assert alert.alert.step == 0
    clock.now += timedelta(minutes=10)
    assert service.escalate() == []
    clock.now += timedelta(minutes=25)
    [stepped] = service.escalate()
    assert (stepped.alert.step, stepped.alert.level) == (1, "critical")
    clock.now += timedelta(minutes=31)
    [paged] = service.escalate()
    assert paged.alert.step == 2
    assert [d.channel for d in paged.deliveries] == ["pager"]
    clock.now += timedelta(hours=5)
    assert service.escalate() == []  # the last step
    escalated = event_log.read(type="AlertEscalated")
    assert [(e.payload["from_step"], e.payload["to_step"]) for e in escalated] == [
        ("warning", "critical"),
        ("critical", "escalated"),
    ]
    service.acknowledge(alert.alert.id, actor="ana")
    with pytest.raises(Conflict, match="already acknowledged"):
        service.acknowledge(alert.alert.id, actor="bob")


def test_an_incident_opens_on_a_bad_run_updates_and_recovers(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service, tenure_shift_sd=0.38)
    first = service.run("churn")
    assert first.incident is not None and first.incident.status == "open"
    [opened] = event_log.read(type="IncidentOpened")
    assert opened.payload["window_start"] == "2026-11-02T00:00:00.000000Z"
    assert opened.payload["detected_at"] == "2026-11-03T02:00:00.000000Z"
    # The next day is back to normal: the incident records its recovery (a fact about the
    # metric, not a lifecycle step: it stays open until closed with a lesson).
    same, outcomes = prediction_rows(DAY3, 2000, seed=3)
    service.log_predictions("churn", 2, same)
    service.log_outcomes("churn", outcomes)
    clock.now += timedelta(days=1)
    second = service.run("churn")
    assert second.record.level == "insufficient_data"  # no business observation yet...
    # ...but the check that failed (PSI of tenure) is measured ok again: recovered.
    assert second.incident is not None and second.incident.status == "open"
    assert second.incident.recovered_at == "2026-11-04T02:00:00.000000Z"
    registry.observe("churn", 2, metric="retention_rate", value=0.80, period="d3", actor="bi")
    third = service.run("churn", start=DAY3, end=DAY3 + timedelta(days=1) - timedelta(seconds=1))
    assert third.record.level == "ok"
    assert (
        third.incident is not None and third.incident.recovered_at == second.incident.recovered_at
    )
    updates = event_log.read(type="IncidentUpdated")
    assert [u.payload["recovered"] for u in updates] == [True]  # once; nothing new after


def test_a_run_without_enough_data_on_the_failed_check_does_not_recover(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service, tenure_shift_sd=0.38)
    assert service.run("churn").incident is not None
    few, outcomes = prediction_rows(DAY3, 50, seed=3)  # under the minimum rows: PSI not judged
    service.log_predictions("churn", 2, few)
    service.log_outcomes("churn", outcomes)
    clock.now += timedelta(days=1)
    second = service.run("churn")
    assert second.record.level == "insufficient_data"
    assert second.incident is not None and second.incident.recovered_at is None
    assert [u.payload["recovered"] for u in event_log.read(type="IncidentUpdated")] == [False]


def test_a_drill_fires_the_expected_level_without_touching_production(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service)
    registry.observe("churn", 2, metric="retention_rate", value=0.80, period="2026-11", actor="bi")
    before = event_log.count()
    report = service.drill("churn", ["tenure=+1sd"], expect="critical")
    assert report.passed is True and report.evaluation.level is Level.CRITICAL
    assert "retrain" in [str(a) for a in report.evaluation.actions]
    calm = service.drill("churn", ["tenure=+0sd"], expect="warning")
    assert calm.passed is False and calm.evaluation.level is Level.OK
    # Only the drills' own events were added; no run, no action, production untouched.
    assert [e.type for e in event_log.read(after=0, limit=10_000)][before:] == [
        "DriftDrillPerformed",
        "DriftDrillPerformed",
    ]
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(monitoring_runs)).scalar_one() == 0
    assert registry.production_version("churn").version == 2  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="plan is not a numeric column"):
        service.drill("churn", ["plan=+1sd"])
    with pytest.raises(InvalidInput, match="shift: 'tenure=up' must be"):
        service.drill("churn", ["tenure=up"])


def test_outcomes_join_by_prediction_id_else_latest_prediction_of_the_entity(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    features = {"tenure": 1.0}
    service.log_predictions(
        "churn",
        2,
        [
            {"id": "a1", "entity": "c1", "served_at": DAY1, "features": features, "score": 0.2},
            {"id": "a2", "entity": "c1", "served_at": DAY2, "features": features, "score": 0.3},
            {"id": "b1", "entity": "c2", "served_at": DAY1, "features": features, "score": 0.4},
        ],
    )
    report = service.log_outcomes(
        "churn",
        [
            {"entity": "c1", "label": 1, "observed_at": DAY2 + timedelta(hours=1)},  # → a2
            {"prediction_id": "a1", "label": 0, "observed_at": DAY3},
            {"entity": "c2", "label": 1, "observed_at": DAY1 + timedelta(days=200)},  # too late
            {"entity": "c9", "label": 1, "observed_at": DAY3},  # no prediction
        ],
    )
    assert (report.logged, report.already_logged, report.unmatched) == (2, 0, (2, 3))
    with db.transaction() as conn:
        stored = dict(conn.execute(select(outcome_log.c.prediction_id, outcome_log.c.label)).all())
    assert stored == {"a2": 1, "a1": 0}
    again = service.log_outcomes(
        "churn", [{"prediction_id": "a1", "label": 0, "observed_at": DAY3}]
    )
    assert (again.logged, again.already_logged) == (0, 1)
    with pytest.raises(Conflict, match="already has the outcome 0"):
        service.log_outcomes("churn", [{"prediction_id": "a1", "label": 1, "observed_at": DAY3}])


@pytest.mark.parametrize(
    ("row", "sentence"),
    [
        ({"score": 1.5}, r"rows\[0\]\.score: must be a probability between 0 and 1"),
        ({"score": "high"}, r"rows\[0\]\.score: must be a number"),
        ({"entity": ""}, r"rows\[0\]\.entity: must be a non-empty id"),
        (
            {"served_at": "yesterday"},
            r"rows\[0\]\.served_at: 'yesterday' \(text\) is not a time; write ISO 8601",
        ),
        ({"features": {"score": 1}}, r"rows\[0\]\.features\.score: is reserved"),
        ({"features": [1]}, r"rows\[0\]\.features: must be a mapping"),
        ({"colour": "red"}, r"rows\[0\]: has unknown field\(s\) colour"),
    ],
)
def test_bad_predictions_are_refused_with_a_sentence_and_nothing_is_stored(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    row: dict[str, Any],
    sentence: str,
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    good = {"entity": "c1", "served_at": DAY1, "features": {"tenure": 1.0}, "score": 0.5}
    with pytest.raises(InvalidInput, match=sentence):
        service.log_predictions("churn", 2, [good, good | row][::-1])
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(prediction_log)).scalar_one() == 0


def test_a_supplied_prediction_id_already_logged_refuses_its_batch(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    row = {"entity": "c1", "served_at": DAY1, "features": {}, "score": 0.5}
    first = service.log_predictions("churn", 2, [row | {"id": "a"}, row])
    assert first[0] == "a" and first[1] != "a"
    with pytest.raises(Conflict, match=r"'a' is already logged; .* nothing was stored"):
        service.log_predictions("churn", 2, [row, row | {"id": "a"}])
    generated = service.log_predictions("churn", 2, [row, row])  # new ids, no lookup needed
    assert len(set(generated) | set(first)) == 4
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(prediction_log)).scalar_one() == 4


def test_bad_outcomes_are_refused_and_nothing_is_stored(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    service.log_predictions(
        "churn",
        2,
        [{"id": "a", "entity": "c1", "served_at": DAY1, "features": {}, "score": 0.5}],
    )
    for row, sentence in (
        ({"prediction_id": "a", "label": 2, "observed_at": DAY2}, r"label: must be 0 or 1"),
        ({"label": 1, "observed_at": DAY2}, "must name its prediction_id or its entity"),
        ({"prediction_id": "a", "label": 1}, r"observed_at: NULL \(no value\) is not a time"),
    ):
        with pytest.raises(InvalidInput, match=sentence):
            service.log_outcomes("churn", [row])
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(outcome_log)).scalar_one() == 0


def test_policy_changes_need_the_named_teams_and_are_events(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    default = MonitoringPolicy.churn_default("churn")
    service.set_policy(default, actor="ana", rationale="adopt the seed's policy")
    psi = default.thresholds[0]
    looser = Threshold(psi.drift_type, "psi", 0.15, 0.25, psi.warning_actions, psi.critical_actions)
    changed = default.with_thresholds([looser, *default.thresholds[1:]])
    with pytest.raises(Forbidden, match="needs the approval of business_team, data_team"):
        service.set_policy(changed, actor="ana", rationale="too many warnings")
    assert service.policy("churn") == default
    approvals = [ThresholdApproval("data_team", "dan"), ThresholdApproval("business_team", "bo")]
    service.set_policy(changed, actor="ana", rationale="too many warnings", approvals=approvals)
    assert service.policy("churn").thresholds[0].warning == 0.15
    [event] = event_log.read(type="ThresholdChanged")
    assert event.payload["before"]["warning"] == 0.1 and event.rationale == "too many warnings"
    assert len(event_log.read(type="MonitoringPolicySet")) == 2
    with pytest.raises(Conflict, match="unchanged"):
        service.set_policy(changed, actor="ana", rationale="again", approvals=approvals)


def test_bad_input_to_the_other_entry_points_is_refused_and_changes_nothing(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    profiled(service)
    before = event_log.count()
    refusals: list[tuple[Any, type[Exception], str]] = [
        (lambda: service.build_profile("churn", 2), InvalidInput, "reference: give a reference"),
        (
            lambda: service.build_profile("churn", " ", start=DAY1, end=DAY2),
            InvalidInput,
            "version",
        ),
        (lambda: service.run("churn", start=DAY1), InvalidInput, "window: give both"),
        (lambda: service.run("churn", start=DAY2, end=DAY1), InvalidInput, "window_start: must"),
        (
            lambda: service.run("churn", start=DAY3, end=DAY3 + timedelta(days=1)),
            InvalidInput,
            r"^window_end: window 2026-11-03T00:00:00.000000Z..2026-11-04T00:00:00.000000Z "
            r"ends at 2026-11-04T00:00:00.000000Z, which is in the future \(now "
            r"2026-11-03T02:00:00.000000Z\); run it once it has ended$",
        ),
        (lambda: service.policy("Not A Name"), InvalidInput, "name"),
        (lambda: service.drill("churn", []), InvalidInput, "shift: a drill needs"),
        (lambda: service.drill("churn", ["tenure=+1sd"], expect="bad"), InvalidInput, "expect"),
        (lambda: service.acknowledge("nope", actor="ana"), NotFound, "No alert has the id nope"),
        (
            lambda: service.log_outcomes(
                "churn", [{"entity": "c1", "label": 1}], horizon=timedelta(0)
            ),
            InvalidInput,
            "horizon: must be a positive duration",
        ),
        (
            lambda: service.set_policy(service.policy("churn"), actor="ana", rationale=" "),
            InvalidInput,
            "rationale",
        ),
    ]
    for call, error, sentence in refusals:
        with pytest.raises(error, match=sentence):
            call()
    assert event_log.count() == before
    assert service.store.stored_policy("churn") == MonitoringPolicy.churn_default("churn")
    with db.transaction() as conn:
        assert conn.execute(select(func.count()).select_from(monitoring_runs)).scalar_one() == 0
