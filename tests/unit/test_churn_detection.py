"""The referee's detection measure: per shock, the first failing daily run and the first one
naming a column the shock changes that was not already failing."""

from __future__ import annotations

from datetime import datetime, timedelta

from lucid.contracts.validity.records import RunRecord
from lucid.scenarios.churn.detection import detections, false_alarms

START = datetime(2019, 1, 1)
SHOCKS = [
    {"kind": "pandemic", "day": 10},
    {"kind": "new_segment", "day": 20},
    {"kind": "regulation", "day": 30},
]


def run(day: int, *failing: tuple[str, str | None, str]) -> RunRecord:
    first, last = START + timedelta(days=day), START + timedelta(days=day + 1)
    checks = [{"metric": m, "feature": f, "level": level} for m, f, level in failing]
    worst = "critical" if any(c["level"] == "critical" for c in checks) else "warning"
    return RunRecord(
        id=f"r{day}",
        model="churn",
        version="1",
        window=f"{first:%Y-%m-%dT%H:%M:%S.000000Z}/{last:%Y-%m-%dT%H:%M:%S.000000Z}",
        measured_at="",
        level=worst if checks else "ok",
        actions=[],
        checks=checks,
    )


def test_each_shock_gets_its_first_flag_and_its_attributed_detection() -> None:
    runs = [run(day) for day in range(40)]
    runs[5] = run(5, ("psi", "customer_tickets_30d", "warning"))  # a false alarm
    runs[11] = run(11, ("psi", "customer_activity_30d", "critical"))  # the pandemic, day 2
    runs[19] = run(19, ("psi", "customer_activity_30d", "warning"))  # still ringing
    runs[20] = run(20, ("psi", "customer_activity_30d", "warning"))  # not the segment
    runs[23] = run(
        23,
        ("psi", "customer_activity_30d", "warning"),
        ("new_category_share", "segment", "warning"),
    )
    [pandemic, segment, regulation] = detections(runs, SHOCKS, START, 40)
    assert (pandemic["first_flagged_day"], pandemic["delay_days"]) == (11, 2)
    assert pandemic["related"] and pandemic["attributed_delay_days"] == 2
    assert pandemic["checks"] == ["psi[customer_activity_30d]=critical"]
    assert (segment["first_flagged_day"], segment["delay_days"]) == (20, 1)
    assert not segment["related"]
    assert (segment["attributed_day"], segment["attributed_delay_days"]) == (23, 4)
    assert segment["attributed_checks"] == ["new_category_share[segment]=warning"]
    assert regulation["first_flagged_day"] is None and regulation["delay_days"] is None
    assert regulation["attributed_day"] is None and regulation["checks"] == []


def test_false_alarms_count_the_failing_runs_before_the_first_shock() -> None:
    runs = [run(day) for day in range(12)]
    runs[3] = run(3, ("psi", "score", "warning"))
    runs[9] = run(9, ("psi", "score", "warning"), ("null_share_rise", None, "critical"))
    runs[10] = run(10, ("psi", "score", "critical"))  # ends after the shock's start
    assert false_alarms(runs, 10, START) == {
        "runs": 10,
        "failing_runs": 2,
        "checks": {"null_share_rise": 1, "psi[score]": 2},
    }
