"""The referee: recovery on realised churn, detection from the team's incidents, the value of
each model against the world without one, and the correlation's interval."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from lucid.registry.portfolio import correlation_interval
from lucid.scenarios.churn.architecture import Alert, ServedDay, TeamIncident
from lucid.scenarios.churn.comparison import customers_of
from lucid.scenarios.churn.referee import (
    QualityJudge,
    RefereeRules,
    auc,
    calm_tolerance,
    false_alarm_incidents,
    fit_logistic,
    model_value,
    referee_figures,
    shock_outcomes,
)
from lucid.scenarios.churn.world import World, WorldConfig

SHOCK = 25
RULES = RefereeRules(window_days=1, hold_days=5, tolerance_auc=0.04)


def served_world(
    blind_from: int | None, blind_until: int | None, days: int = 50
) -> tuple[list[ServedDay], dict[str, float]]:
    """Each day 400 new customers; low activity churns (noisily) 5 days later. The served
    score ranks by activity, except on days [blind_from, blind_until) when it is noise."""
    rng = np.random.default_rng(3)
    served, churn = [], {}
    for day in range(days):
        ids = tuple(f"c{day}-{n}" for n in range(400))
        activity = rng.gamma(2.0, 5.0, size=400)
        churned = rng.random(400) < 1 / (1 + np.exp(0.4 * (activity - 4.0)))
        churn.update({c: day + 5.0 for c, gone in zip(ids, churned, strict=True) if gone})
        blind = blind_from is not None and blind_from <= day < (blind_until or days)
        scores = rng.random(400) if blind else -activity
        served.append(ServedDay(day, ids, activity.reshape(-1, 1), ("activity",), scores, 1))
    return served, churn


def test_a_model_that_loses_its_ranking_is_recovered_when_it_ranks_again() -> None:
    served, churn = served_world(SHOCK, SHOCK + 10)
    judge = QualityJudge(served, churn, last_day=70, rules=RULES)
    assert judge.recovered_day(SHOCK) == SHOCK + 10
    assert judge.recovered_day(SHOCK, until=SHOCK + 8) is None  # not before the next shock
    calm = [row for row in judge.series() if row["day"] < SHOCK]
    assert calm and all(abs(row["oracle_auc"] - row["auc"]) < RULES.tolerance_auc for row in calm)
    blind = judge.evaluate(SHOCK + 3)
    assert blind is not None and blind[1] - blind[0] > 0.2


def test_the_oracle_is_the_training_pipeline_and_its_auc_sklearns() -> None:
    rng = np.random.default_rng(8)
    features = rng.gamma(2.0, 4.0, size=(600, 3))
    y = (rng.random(600) < 1 / (1 + np.exp(features[:, 0] - 6))).astype(np.int64)
    pipeline = make_pipeline(
        FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression(max_iter=1_000)
    ).fit(features[:400], y[:400])
    ours = fit_logistic(features[:400], y[:400])(features[400:])
    theirs = pipeline.decision_function(features[400:])
    assert ours == pytest.approx(theirs, abs=5e-3)  # lbfgs stops at its tolerance
    assert auc(y[400:], ours) == pytest.approx(roc_auc_score(y[400:], theirs), abs=1e-3)
    assert auc(np.array([0, 1, 0, 1]), np.array([1.0, 1.0, 0.0, 2.0])) == 0.875  # a tie: half


def test_a_window_is_dated_by_its_first_day() -> None:
    served, churn = served_world(SHOCK, SHOCK + 10)
    judge = QualityJudge(served, churn, 70, RefereeRules(window_days=3, hold_days=5))
    assert judge.recovered_day(SHOCK) == SHOCK + 10  # what is served from then on ranks
    assert judge.evaluate(SHOCK + 8) is not None
    quality, oracle = judge.evaluate(SHOCK + 8)  # type: ignore[misc]
    assert oracle - quality > 0.1  # two blind days of three in the window


def test_a_shock_that_never_hurts_is_recovered_on_its_day() -> None:
    served, churn = served_world(None, None)
    assert QualityJudge(served, churn, 70, RULES).recovered_day(SHOCK) == SHOCK


def test_no_recovery_without_realised_outcomes_or_enough_churners() -> None:
    served, churn = served_world(None, None)
    assert QualityJudge(served, churn, SHOCK + 14, RULES).recovered_day(SHOCK) is None
    assert QualityJudge(served, {}, 70, RULES).recovered_day(SHOCK) is None  # no churner


def test_detection_picks_the_first_alert_after_each_shock() -> None:
    shocks = [
        {"kind": "pandemic", "day": 10, "changes_relation": True},
        {"kind": "outage", "day": 30, "duration_days": 3},
        {"kind": "regulation", "day": 50},
    ]
    incidents = [
        TeamIncident("i0", 4.0, "monitoring", "data_drift", None, False),
        TeamIncident("i2", 12.5, "monitoring", "concept_drift", "retrain", True),
        TeamIncident("i1", 11.0, "monthly_review", "concept_drift", None, True),
        TeamIncident("i3", 31.0, "monitoring", "upstream_change", "watch", True),
    ]
    alerts = [Alert(i.opened_day, i.detected_by) for i in incidents]
    alerts.append(Alert(9.0, "a check newly failing before the first shock"))
    found = shock_outcomes(shocks, alerts, None)
    assert [(s["detected_day"], s["detected_by"]) for s in found] == [
        (11.0, "monthly_review"),
        (31.0, "monitoring"),
        (None, None),
    ]
    assert [s["floor_days"] for s in found] == [14, 3, 0]
    assert [s["detection_delay_days"] for s in found] == [1.0, 1.0, None]
    found[0].update(recovered_day=30, recovery_days=20)
    found[1].update(recovered_day=35, recovery_days=5)
    figures = referee_figures(found, incidents, datetime(2019, 1, 1), 80)
    assert figures.detection_delay_days == 1.0
    assert figures.time_to_recovery_days == 12.5  # mean over recovered shocks
    assert figures.critical_incidents_undetected == 1  # the regulation: no alert after it
    assert figures.failures_documented_pct == 50.0  # i2 and i3 closed with a lesson
    assert figures.repeated_errors == 1  # i2 repeats i1's root cause


def test_false_alarms_are_incidents_before_the_first_shock_or_in_a_quiet_peak() -> None:
    seasons = [{"kind": "seasonal_peak", "day": 100, "duration_days": 10}]
    incidents = [
        TeamIncident("early", 5.0, "monitoring", None, None, False),
        TeamIncident("peak", 95.0, "monitoring", None, None, False),  # 7 days before it
        TeamIncident("after", 117.0, "monitoring", None, None, False),  # 7 days after it
        TeamIncident("late", 118.0, "monitoring", None, None, False),  # outside it
    ]
    assert false_alarm_incidents(incidents, [20], seasons) == 3
    assert false_alarm_incidents(incidents, [20, 90], seasons) == 1  # a shock 5 and 27 days before


def test_value_per_model_against_the_untreated_world_is_exact() -> None:
    config = WorldConfig(customers=200, days=60, seed=5, shocks=(), treatment_effect=0.9)
    world, untreated = World(config), World(config).run()
    ids = world.active_customers()
    treated = frozenset(ids[::2])
    while not world.finished:
        world.step(min(7, config.days - world.day), treated=treated if world.day >= 28 else ())
    arm, none = customers_of(world), customers_of(untreated)
    versions = [(28, 1), (42, 2)]
    value = model_value(arm, none, world.treatments, versions, 28, 60)
    kept, lost = world.retention(28, 60), untreated.retention(28, 60)
    assert value["revenue_kept_vs_no_model"] == pytest.approx(kept.revenue_kept - lost.revenue_kept)
    assert value["customers_kept_vs_no_model"] == (
        kept.customers_retained - lost.customers_retained
    )
    assert value["customers_kept_vs_no_model"] > 0
    saved = (arm.churn != arm.churn) & (none.churn <= 60) & none.paying(28)
    assert set(np.array(arm.ids)[saved]) <= treated
    by_version: dict[int, float] = {}
    for index in np.flatnonzero(saved):
        last = max(
            b for b, _, who in world.treatments if arm.ids[index] in who and b <= none.churn[index]
        )
        version = 1 if last < 42 else 2
        by_version[version] = by_version.get(version, 0.0) + float(arm.price[index])
    assert value["models"] == 2
    assert value["value_per_model"] == pytest.approx(value["revenue_kept_vs_no_model"] / 2)
    assert value["per_model"] == [
        {"version": v, "days_served": 1, "revenue_kept": pytest.approx(by_version.get(v, 0.0))}
        for v in (1, 2)
    ]


def test_the_correlation_interval_is_fishers() -> None:
    r, pairs = 0.89, 8
    half = stats.norm.ppf(0.975) / math.sqrt(pairs - 3)
    low, high = correlation_interval(r, pairs) or (0.0, 0.0)
    assert low == pytest.approx(math.tanh(math.atanh(r) - half))
    assert high == pytest.approx(math.tanh(math.atanh(r) + half))
    assert correlation_interval(r, 3) is None
    assert correlation_interval(1.0, 5) == (1.0, 1.0)


def test_the_tolerance_is_the_calm_days_95th_percentile_rounded_up() -> None:
    calm = [{"day": d, "auc": 0.8, "oracle_auc": 0.8 + d / 1000} for d in range(100)]
    crossing = [{"day": d, "auc": 0.5, "oracle_auc": 0.9} for d in range(100, 114)]
    shocked = [{"day": 200, "auc": 0.5, "oracle_auc": 0.9}]
    # Calm: windows (7 days) whose outcomes (14 days on) all fell before day 114: days 0..92.
    assert calm_tolerance([calm[:50], calm[50:] + crossing + shocked], first_shock=114) == 0.09
    assert calm_tolerance([calm[:20]], first_shock=100) == 0.03  # never below the floor
    assert calm_tolerance([calm[:5]], first_shock=100) == RefereeRules().tolerance_auc
