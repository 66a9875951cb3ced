"""The validity contract: thresholds, levels, actions and policies, without any storage."""

from __future__ import annotations

import math
from typing import Any

import pytest

from lucid.contracts.validity import (
    METRICS,
    Action,
    ActionKind,
    DriftType,
    Frequency,
    Level,
    Measurement,
    MonitoringPolicy,
    Reporting,
    Threshold,
    ThresholdApproval,
    parse_actions,
)
from lucid.errors import Forbidden, InvalidInput, LucidError

ALERT_DATA = (Action(ActionKind.ALERT, "data_team"),)
RETRAIN = (Action(ActionKind.RETRAIN),)


def psi_threshold(**changes: Any) -> Threshold:
    fields: dict[str, Any] = {
        "drift_type": DriftType.DATA,
        "metric": "psi",
        "warning": 0.1,
        "critical": 0.2,
        "warning_actions": ALERT_DATA,
        "critical_actions": RETRAIN,
    }
    fields.update(changes)
    return Threshold(**fields)


def test_levels_are_ordered_so_the_worst_decides_and_insufficient_is_not_ok() -> None:
    order = [Level.OK, Level.INSUFFICIENT_DATA, Level.WARNING, Level.CRITICAL]
    assert sorted(reversed(order), key=lambda level: level.severity) == order
    assert Level.worst([Level.OK, Level.INSUFFICIENT_DATA]) is Level.INSUFFICIENT_DATA
    assert Level.worst([Level.CRITICAL, Level.WARNING, Level.OK]) is Level.CRITICAL
    assert Level.worst([]) is Level.OK
    assert sorted(reversed(order)) == order  # compared by severity, not alphabetically
    assert Level.INSUFFICIENT_DATA > Level.OK and Level.CRITICAL >= Level.WARNING
    assert max(order) is Level.CRITICAL


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0.0, Level.OK),
        (0.0999, Level.OK),
        (0.1, Level.WARNING),
        (0.1999, Level.WARNING),
        (0.2, Level.CRITICAL),
        (5.0, Level.CRITICAL),
        (math.inf, Level.CRITICAL),
        (None, Level.INSUFFICIENT_DATA),
        (math.nan, Level.INSUFFICIENT_DATA),
    ],
)
def test_a_higher_is_worse_threshold_grades_at_its_bounds(
    value: float | None, level: Level
) -> None:
    assert psi_threshold().grade(value) is level


def test_a_small_window_is_insufficient_whatever_its_value() -> None:
    assert psi_threshold().grade(0.9, sufficient=False) is Level.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("value", "level"),
    [(0.5, Level.OK), (0.05, Level.WARNING), (0.02, Level.WARNING), (0.01, Level.CRITICAL)],
)
def test_a_lower_is_worse_threshold_grades_p_values(value: float, level: Level) -> None:
    threshold = psi_threshold(metric="ks_pvalue", warning=0.05, critical=0.01)
    assert threshold.grade(value) is level


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"warning": 0.2, "critical": 0.1}, r"warning: must be below critical for psi"),
        ({"warning": 0.2, "critical": 0.2}, r"warning: must be below critical"),
        (
            {"metric": "ks_pvalue", "warning": 0.01, "critical": 0.05},
            r"warning: must be above critical for ks_pvalue, where lower is worse",
        ),
        ({"warning": math.nan}, r"warning: must be a finite number"),
        ({"critical": math.inf}, r"critical: must be a finite number"),
        ({"warning": "0.1"}, r"warning: must be a number"),
        ({"warning": True}, r"warning: must be a number"),
        ({"metric": "psy"}, r"metric: 'psy' is not a known metric \(known: .*psi"),
        ({"drift_type": DriftType.BUSINESS}, r"drift_type: business does not fit metric psi"),
        ({"warning_actions": ()}, r"actions: a threshold needs a warning and a critical"),
        ({"feature": "  "}, r"feature: must be a name or absent"),
        ({"runbook": ""}, r"runbook: must be a Markdown path or URL"),
    ],
)
def test_a_threshold_refuses_broken_invariants_with_a_sentence(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        psi_threshold(**changes)


def test_actions_parse_from_text_and_seed_aliases() -> None:
    assert Action.parse("alert:data_team") == Action(ActionKind.ALERT, "data_team")
    assert str(Action.parse("retrain")) == "retrain"
    assert parse_actions("freeze_deployment_and_investigate", "x") == (
        Action(ActionKind.FREEZE),
        Action(ActionKind.INVESTIGATE),
    )
    assert parse_actions(["rollback", "rollback", "alert:ops"], "x") == (
        Action(ActionKind.ROLLBACK),
        Action(ActionKind.ALERT, "ops"),
    )
    with pytest.raises(InvalidInput, match=r"x: 'page' is not an action \(known: alert"):
        parse_actions("page", "x")
    with pytest.raises(InvalidInput, match=r"action: alert must name whom it alerts"):
        Action.parse("alert")
    with pytest.raises(InvalidInput, match=r"x: must name at least one action"):
        parse_actions([], "x")
    with pytest.raises(InvalidInput, match=r"action.target: 'Data Team' must be lower-case"):
        Action(ActionKind.ALERT, "Data Team")


def test_every_metric_has_a_unit_and_a_drift_type() -> None:
    for spec in METRICS.values():
        assert spec.unit and spec.drift_types and spec.description


def test_the_churn_default_is_the_seeds_policy() -> None:
    policy = MonitoringPolicy.churn_default()
    assert policy.model == "churn_prediction_v2"
    assert policy.minimum_rows == 500
    rows = [
        (t.drift_type, t.metric, t.warning, t.critical, t.warning_actions, t.critical_actions)
        for t in policy.thresholds
    ]
    assert rows == [
        (DriftType.DATA, "psi", 0.1, 0.2, ALERT_DATA, RETRAIN),
        (
            DriftType.CONCEPT,
            "accuracy_drop",
            0.03,
            0.05,
            ALERT_DATA,
            (Action(ActionKind.FREEZE), Action(ActionKind.INVESTIGATE)),
        ),
        (
            DriftType.BUSINESS,
            "business_metric_drop",
            0.01,
            0.02,
            (Action(ActionKind.ALERT, "business_team"),),
            (Action(ActionKind.ROLLBACK),),
        ),
    ]
    assert policy.reporting.frequency is Frequency.DAILY
    assert len(policy.reporting.stakeholders) == 3


def test_every_check_is_graded_and_the_run_never_stops_at_the_first_non_ok() -> None:
    """The seed's defect: data drift warning first would have hidden the critical business
    drop. Here both are reported and the rollback is asked for."""
    policy = MonitoringPolicy.churn_default()
    evaluation = policy.evaluate(
        [
            Measurement("psi", 0.15, feature="tenure", reference_rows=900, current_rows=800),
            Measurement("psi", 0.01, feature="plan", reference_rows=900, current_rows=800),
            Measurement("accuracy_drop", 0.0),
            Measurement("business_metric_drop", 0.025),
        ]
    )
    levels = {(c.measurement.metric, c.measurement.feature): c.level for c in evaluation.checks}
    assert levels == {
        ("psi", "tenure"): Level.WARNING,
        ("psi", "plan"): Level.OK,
        ("accuracy_drop", None): Level.OK,
        ("business_metric_drop", None): Level.CRITICAL,
    }
    assert evaluation.level is Level.CRITICAL
    assert evaluation.actions == (
        Action(ActionKind.ROLLBACK),
        Action(ActionKind.ALERT, "data_team"),
    )
    assert [c.level for c in evaluation.at(Level.WARNING)] == [Level.WARNING]
    report = evaluation.to_dict()
    assert report["level"] == "critical"
    assert report["actions"] == ["rollback", "alert:data_team"]
    assert len(report["checks"]) == 4


def test_a_threshold_without_a_measurement_is_insufficient_not_silently_ok() -> None:
    evaluation = MonitoringPolicy.churn_default().evaluate([Measurement("psi", 0.01, "age")])
    missing = [c for c in evaluation.checks if c.level is Level.INSUFFICIENT_DATA]
    assert [c.measurement.metric for c in missing] == ["accuracy_drop", "business_metric_drop"]
    assert missing[0].measurement.note == "no measurement of this metric in the run"
    assert evaluation.level is Level.INSUFFICIENT_DATA
    assert evaluation.actions == ()


def test_scoped_thresholds_apply_only_to_their_feature_and_segment() -> None:
    policy = MonitoringPolicy(
        "churn",
        (
            psi_threshold(feature="age", segment="plan=pro", warning=0.05, critical=0.1),
            psi_threshold(),
        ),
        Reporting(("a@b.c",)),
    )
    evaluation = policy.evaluate(
        [
            Measurement("psi", 0.07, feature="age", segment="plan=pro"),
            Measurement("psi", 0.07, feature="age", segment="plan=free"),
            Measurement("psi", 0.07, feature="income", segment="plan=pro"),
        ]
    )
    graded = [(c.threshold.key, c.measurement.segment, c.level) for c in evaluation.checks]
    assert graded == [
        ("psi[age]@plan=pro", "plan=pro", Level.WARNING),
        ("psi", "plan=pro", Level.OK),
        ("psi", "plan=free", Level.OK),
        ("psi", "plan=pro", Level.OK),
    ]


def test_policy_invariants() -> None:
    reporting = Reporting(("a@b.c",))
    with pytest.raises(InvalidInput, match=r"model: ' ' must be the name of the monitored model"):
        MonitoringPolicy(" ", (psi_threshold(),), reporting)
    with pytest.raises(InvalidInput, match=r"thresholds: a monitoring policy needs at least one"):
        MonitoringPolicy("m", (), reporting)
    with pytest.raises(InvalidInput, match=r"thresholds: psi is watched twice"):
        MonitoringPolicy("m", (psi_threshold(), psi_threshold()), reporting)
    with pytest.raises(InvalidInput, match=r"minimum_rows: must be at least 1"):
        MonitoringPolicy("m", (psi_threshold(),), reporting, minimum_rows=0)
    with pytest.raises(InvalidInput, match=r"reporting.stakeholders: must name at least one"):
        Reporting(())


def test_a_policy_round_trips_through_plain_data() -> None:
    policy = MonitoringPolicy.churn_default()
    assert MonitoringPolicy.from_mapping(policy.to_mapping()) == policy


def test_a_policy_builds_from_yaml_shaped_data_with_seed_aliases() -> None:
    raw = {
        "model": "churn",
        "minimum_rows": 1000,
        "thresholds": [
            {
                "drift_type": "data",
                "metric": "psi",
                "feature": "tenure",
                "warning": 0.1,
                "critical": 0.25,
                "warning_action": "alert_data_team",
                "critical_action": ["retrain", "alert:ml_oncall"],
                "runbook": "runbooks/psi.md",
            }
        ],
        "reporting": {"stakeholders": ["data@x.io"], "frequency": "hourly"},
    }
    policy = MonitoringPolicy.from_mapping(raw)
    [threshold] = policy.thresholds
    assert threshold.critical_actions == (
        Action(ActionKind.RETRAIN),
        Action(ActionKind.ALERT, "ml_oncall"),
    )
    assert threshold.runbook == "runbooks/psi.md"
    assert policy.reporting.frequency is Frequency.HOURLY
    assert policy.minimum_rows == 1000


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw.pop("model"), r"^model: is required"),
        (lambda raw: raw.update(extra=1), r"^policy\.extra: unknown key"),
        (lambda raw: raw.update(thresholds="psi"), r"^thresholds: is required and must be a list"),
        (lambda raw: raw.pop("reporting"), r"^reporting: is required"),
        (
            lambda raw: raw["thresholds"][0].pop("critical"),
            r"^thresholds\[0\].critical: is required",
        ),
        (
            lambda raw: raw["thresholds"][0].update(drift_type="vibes"),
            r"^thresholds\[0\].drift_type: 'vibes' is not one of data, concept",
        ),
        (
            lambda raw: raw["thresholds"][0].update(warning=0.5),
            r"^thresholds\[0\].warning: must be below critical",
        ),
        (
            lambda raw: raw["thresholds"][0].update(critical_action="explode"),
            r"^thresholds\[0\].critical_action: 'explode' is not an action",
        ),
        (
            lambda raw: raw["thresholds"][0].update(colour="red"),
            r"^thresholds\[0\]\.colour: unknown key",
        ),
        (
            lambda raw: raw["reporting"].update(frequency="yearly"),
            r"^reporting.frequency: 'yearly' is not one of hourly",
        ),
        (lambda raw: raw.update(minimum_rows="many"), r"^minimum_rows: must be a whole number"),
    ],
)
def test_bad_policy_data_is_one_sentence_naming_the_field(mutate: Any, message: str) -> None:
    raw = MonitoringPolicy.churn_default().to_mapping()
    mutate(raw)
    with pytest.raises(LucidError, match=message):
        MonitoringPolicy.from_mapping(raw)


def test_a_policy_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^policy: must be a mapping of fields, not list"):
        MonitoringPolicy.from_mapping([1, 2])


# --- changing a threshold ------------------------------------------------------------------


def looser_psi() -> Threshold:
    return psi_threshold(warning=0.15, critical=0.25)


def test_the_policy_names_the_teams_its_alerts_reach() -> None:
    assert MonitoringPolicy.churn_default().approving_teams == ("business_team", "data_team")


def test_an_approved_threshold_change_returns_the_new_policy_and_its_event() -> None:
    policy = MonitoringPolicy.churn_default()
    changed, event = policy.change_threshold(
        looser_psi(),
        proposer="ana",
        rationale="seasonal traffic makes PSI 0.1 fire every Monday",
        approvals=[ThresholdApproval("data_team", "bo"), ThresholdApproval("business_team", "cy")],
    )
    assert changed.thresholds[0].warning == 0.15
    assert changed.thresholds[1:] == policy.thresholds[1:]
    assert policy.thresholds[0].warning == 0.1  # the old policy is unchanged
    assert event.event_type == "ThresholdChanged"
    assert event.before["warning"] == 0.1 and event.after["warning"] == 0.15
    assert event.approvals == [
        {"team": "data_team", "person": "bo"},
        {"team": "business_team", "person": "cy"},
    ]


@pytest.mark.parametrize(
    ("new", "kwargs", "error", "message"),
    [
        (
            looser_psi(),
            {"approvals": [ThresholdApproval("data_team", "bo")]},
            Forbidden,
            r"needs the approval of business_team: every team the policy of "
            r"churn_prediction_v2 names must approve",
        ),
        (
            looser_psi(),
            {
                "approvals": [
                    ThresholdApproval("data_team", "ana"),
                    ThresholdApproval("business_team", "cy"),
                ]
            },
            Forbidden,
            r"ana proposed the change of psi and cannot approve it for data_team",
        ),
        (
            looser_psi(),
            {"rationale": " "},
            InvalidInput,
            r"^rationale: must say why",
        ),
        (
            psi_threshold(feature="age"),
            {},
            InvalidInput,
            r"^threshold: psi\[age\] is not watched by the policy of churn_prediction_v2",
        ),
        (psi_threshold(), {}, InvalidInput, r"^threshold: psi is unchanged"),
    ],
)
def test_a_threshold_change_is_refused_with_a_sentence(
    new: Threshold, kwargs: dict[str, Any], error: type[LucidError], message: str
) -> None:
    arguments: dict[str, Any] = {
        "proposer": "ana",
        "rationale": "because",
        "approvals": [
            ThresholdApproval("data_team", "bo"),
            ThresholdApproval("business_team", "cy"),
        ],
        **kwargs,
    }
    with pytest.raises(error, match=message):
        MonitoringPolicy.churn_default().change_threshold(new, **arguments)
