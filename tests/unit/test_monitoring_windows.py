"""Default windows (aligned, so cron runs stay idempotent), drill shifts, alert targets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lucid.contracts.validity import (
    Check,
    Frequency,
    Level,
    Measurement,
    MonitoringPolicy,
)
from lucid.errors import InvalidInput
from lucid.monitoring.alerts import alert_targets
from lucid.monitoring.service import Shift
from lucid.monitoring.windows import window_of

NOW = datetime(2026, 11, 25, 9, 41, 7, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("frequency", "start", "end"),
    [
        (Frequency.HOURLY, "2026-11-25T08:00:00.000000Z", "2026-11-25T09:00:00.000000Z"),
        (Frequency.DAILY, "2026-11-24T00:00:00.000000Z", "2026-11-25T00:00:00.000000Z"),
        (Frequency.WEEKLY, "2026-11-16T00:00:00.000000Z", "2026-11-23T00:00:00.000000Z"),
    ],
)
def test_the_default_window_is_the_last_complete_period(
    frequency: Frequency, start: str, end: str
) -> None:
    window = window_of(frequency, NOW)
    assert (window.start, window.end) == (start, end)
    assert window_of(frequency, NOW.replace(minute=59)) == window  # same period, same run


def test_a_given_window_must_be_whole_and_ordered() -> None:
    with pytest.raises(InvalidInput, match="give both"):
        window_of(Frequency.DAILY, NOW, start=NOW)
    with pytest.raises(InvalidInput, match="window_start: must be before window_end"):
        window_of(Frequency.DAILY, NOW, start=NOW, end=NOW)


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("tenure=+0.5sd", Shift("tenure", "+", 0.5, True)),
        ("tenure = -2", Shift("tenure", "-", 2.0, False)),
        ("score=*1.1", Shift("score", "*", 1.1, False)),
    ],
)
def test_drill_shifts_parse(spec: str, parsed: Shift) -> None:
    assert Shift.parse(spec) == parsed


@pytest.mark.parametrize("spec", ["tenure", "tenure=0.5", "tenure=*2sd", "=+1"])
def test_bad_drill_shifts_are_named(spec: str) -> None:
    with pytest.raises(InvalidInput, match="shift"):
        Shift.parse(spec)


def test_a_critical_check_alerts_the_team_its_warning_names() -> None:
    business = MonitoringPolicy.churn_default().thresholds[2]
    measured = Measurement("business_metric_drop", 0.05)
    assert business.critical_actions[0].target is None  # the seed: rollback only
    assert alert_targets(Check(business, measured, Level.CRITICAL)) == ("business_team",)
    assert alert_targets(Check(business, measured, Level.WARNING)) == ("business_team",)
    assert alert_targets(Check(business, measured, Level.OK)) == ()
