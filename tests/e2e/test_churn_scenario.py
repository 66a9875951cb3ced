"""The reference scenario end to end on a small world: the seed's claims, as measured here.

One world of 2,000 customers over 300 days (shocks at days 120, 180 and 240) is lived by both
architectures; the assertions are the properties the seed claims for each. Where a claim does
not hold on this world the test says so with the measured figure instead of hiding it. The
negentropic arm runs its policy daily over a seventh of the base (each customer is scored on
their own weekday): 2,000 customers keep every day's window above the policy's 200 rows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from lucid.bootstrap import open_project
from lucid.contracts.events import parse_time
from lucid.memory.scorecard import SCORECARD_KEYS
from lucid.scenarios.churn.architecture import FIRST_DEPLOY_DAY
from lucid.scenarios.churn.comparison import Comparison, run_comparison
from lucid.scenarios.churn.report import write_report
from lucid.scenarios.churn.world import WorldConfig

pytestmark = pytest.mark.timeout(1_200)  # the module's world takes minutes on a shared machine


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    folder = tmp_path_factory.mktemp("scenario")
    return run_comparison(WorldConfig(customers=2_000, days=300, seed=11), folder)


def test_the_json_has_the_issue_shape(comparison: Comparison) -> None:
    summary = json.loads(json.dumps(comparison.to_dict()))
    assert set(summary) == {
        "entropic",
        "negentropic",
        "world",
        "referee",
        "detection",
        "false_alarms_before_first_shock",
        "wall_seconds",
    }
    for arm in ("entropic", "negentropic"):
        assert set(summary[arm]) == {
            *SCORECARD_KEYS,
            "retention_rate",
            "revenue_kept",
            "promotions",
            "overrides",
            "false_alarm_incidents",
            "correlation_interval",
            "correlation_pairs",
            "value",
            "shocks",
        }
        assert [s["day"] for s in summary[arm]["shocks"]] == [120, 180, 240]
        for shock in summary[arm]["shocks"]:
            assert set(shock) == {
                "kind",
                "day",
                "detected_day",
                "detected_by",
                "recovered_day",
                "floor_days",
                "detection_delay_days",
                "recovery_days",
            }
        value = summary[arm]["value"]
        assert sum(m["revenue_kept"] for m in value["per_model"]) == pytest.approx(
            value["revenue_kept_vs_no_model"], abs=0.05
        )
        promotions = summary[arm]["promotions"]
        gated = promotions["by_evidence"] + promotions["by_override"]
        assert promotions["production"] == gated + promotions["ungated"] >= 1
        assert promotions["evidence_lucid"] + promotions["evidence_external"] <= gated
    # The entropic arm's one model was copied to production by hand: no gate saw it.
    assert summary["entropic"]["promotions"] == {
        "production": 1,
        "by_evidence": 0,
        "by_override": 0,
        "ungated": 1,
        "evidence_lucid": 0,
        "evidence_external": 0,
        "override_share_pct": None,
    }
    assert summary["negentropic"]["promotions"]["ungated"] == 0
    assert {"customers", "days", "seed", "start", "end", "shocks", "seasons"} <= set(
        summary["world"]
    )
    assert set(summary["referee"]) == {
        "label_horizon_days",
        "window_days",
        "tolerance_auc",
        "hold_days",
    }
    assert [s["day"] for s in summary["world"]["shocks"]] == [120, 180, 240]
    assert [d["shock"] for d in summary["detection"]] == ["pandemic", "new_segment", "regulation"]
    for found in summary["detection"]:
        assert found["start_day"] in (120, 180, 240)
        if found["first_flagged_day"] is not None:
            assert found["delay_days"] == found["first_flagged_day"] + 1 - found["start_day"] >= 1
            assert found["checks"]
    alarms = summary["false_alarms_before_first_shock"]
    assert set(alarms) == {"runs", "failing_runs", "checks", "incidents_opened"}


def test_the_negentropic_arm_runs_its_policy_every_day(comparison: Comparison) -> None:
    with open_project(comparison.folder / "negentropic") as lucid:
        assert lucid.monitoring.policy("churn").reporting.frequency.value == "daily"
        runs = lucid.monitoring.runs("churn", limit=500).runs
    days = sorted(
        (parse_time(run.window.split("/")[0]), parse_time(run.window.split("/")[1])) for run in runs
    )
    assert all(end - start == timedelta(days=1) for start, end in days)
    assert len(days) == 300 - FIRST_DEPLOY_DAY  # one run a day from the first deployment
    # A seventh of the base is enough rows to judge the served features' drift (a quiet
    # source, a few support tickets a day, may stay under the minimum rows).
    judged = [
        run
        for run in runs
        if all(c["level"] != "insufficient_data" for c in run.checks if c["metric"] == "psi")
    ]
    assert len(judged) >= 0.9 * len(runs)


def test_each_shock_is_flagged_by_a_check_of_a_column_it_changes(comparison: Comparison) -> None:
    found = {d["shock"]: d for d in comparison.to_dict()["detection"]}
    assert found["pandemic"]["related"]
    assert found["pandemic"]["attributed_delay_days"] is not None
    assert found["new_segment"]["attributed_delay_days"] is not None
    assert any("[segment]" in check for check in found["new_segment"]["attributed_checks"])


def test_the_regulation_and_the_pandemic_are_seen_on_their_first_day_by_source_health(
    comparison: Comparison,
) -> None:
    found = {d["shock"]: d for d in comparison.to_dict()["detection"]}
    for shock in ("pandemic", "regulation"):
        assert found[shock]["attributed_delay_days"] == 1, found[shock]
        assert any("[source:logins]" in c for c in found[shock]["attributed_checks"]), found[shock]


def test_no_incident_is_opened_before_the_first_shock(comparison: Comparison) -> None:
    alarms = comparison.to_dict()["false_alarms_before_first_shock"]
    assert alarms["runs"] > 60
    assert alarms["incidents_opened"] == 0, alarms


def test_the_entropic_arm_contradicts_itself_and_detects_nothing(comparison: Comparison) -> None:
    entropic = comparison.arms["entropic"].scorecard
    assert entropic["contradictory_definitions"] == 3
    assert entropic["training_serving_skew_pct"] > 50  # trained on logins, served purchases
    assert entropic["models_without_impact_pct"] == 100.0
    assert entropic["detection_delay_days"] is None
    assert entropic["critical_incidents_undetected"] == 3
    assert comparison.arms["entropic"].incidents == []


def test_the_negentropic_arm_keeps_its_contracts(comparison: Comparison) -> None:
    negentropic = comparison.arms["negentropic"]
    card = negentropic.scorecard
    assert card["contradictory_definitions"] == 0
    assert card["training_serving_skew_pct"] < 2.0
    assert card["models_without_impact_pct"] == 0.0
    assert negentropic.chain_ok


def test_the_negentropic_arm_detects_recovers_and_documents(comparison: Comparison) -> None:
    negentropic = comparison.arms["negentropic"]
    card = negentropic.scorecard
    assert card["detection_delay_days"] is not None and 0 <= card["detection_delay_days"] < 30
    assert card["time_to_recovery_days"] is not None
    closed = [i for i in negentropic.incidents if i["status"] == "closed"]
    assert closed and all(i["lesson"] for i in closed)
    assert card["failures_documented_pct"] == pytest.approx(
        100.0 * len(closed) / len(negentropic.incidents)
    )
    # Honest figure, not a claim: shocks that hit while an incident was still being worked
    # on are not counted as detected (see the note of issue 10).
    assert card["critical_incidents_undetected"] < 3


def test_the_negentropic_arm_keeps_more_customers(comparison: Comparison) -> None:
    entropic = comparison.arms["entropic"]
    negentropic = comparison.arms["negentropic"]
    assert negentropic.customers_at_start == entropic.customers_at_start
    assert negentropic.retention_rate > entropic.retention_rate
    assert negentropic.revenue_kept > entropic.revenue_kept


def test_the_negentropic_project_stays_for_the_dashboard(comparison: Comparison) -> None:
    with open_project(comparison.folder / "negentropic") as lucid:
        assert lucid.registry.production_version("churn") is not None
        assert lucid.events.verify().ok


def test_the_report_draws_both_arms(comparison: Comparison, tmp_path: Path) -> None:
    page = write_report(comparison, tmp_path / "report.html").read_text(encoding="utf-8")
    retention = page.split("<h2>Business metric over time</h2>")[1].split("</svg>")[0]
    assert retention.count('class="series" data-arm=') == 2
    assert '<text class="tick x-tick" data-x="0.0"' in retention  # dated axis from day 0
    assert 'data-kind="entropic"' in retention and 'data-kind="negentropic"' in retention
    assert "<tr><th>promotions by override</th><td>0</td>" in page
    assert "<tr><th>production promotions</th><td>1 ungated</td>" in page
    assert "http://" not in page and "https://" not in page


def test_the_same_seed_gives_the_same_table(tmp_path: Path) -> None:
    config = WorldConfig(customers=300, days=60, seed=3)
    first = run_comparison(config, tmp_path / "one").to_dict()
    second = run_comparison(config, tmp_path / "two").to_dict()
    first.pop("wall_seconds"), second.pop("wall_seconds")
    assert first == second
