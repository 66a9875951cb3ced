"""Default windows (aligned, so cron runs stay idempotent), drill shifts, alert targets, and
the time rule for windows and served times."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pandas as pd
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
from lucid.monitoring.drills import Shift
from lucid.monitoring.predictions import prediction_rows
from lucid.monitoring.windows import Kind, window_of, window_table

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


def test_naive_times_are_utc_whatever_the_machine_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A naive `now` or window bound means UTC, also on a machine set to UTC+05:30."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert window_of(Frequency.HOURLY, NOW.replace(tzinfo=None)) == window_of(
            Frequency.HOURLY, NOW
        )
        given = window_of(
            Frequency.DAILY,
            NOW,
            datetime(2026, 11, 1),
            datetime(2026, 11, 2, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        )
        assert (given.start, given.end) == (
            "2026-11-01T00:00:00.000000Z",
            "2026-11-02T00:00:00.000000Z",
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_served_at_without_offset_is_utc_and_a_bad_one_names_its_row() -> None:
    given = [
        datetime(2026, 11, 3, 1),
        "2026-11-03T01:00",
        "2026-11-03T06:30:00+05:30",
        pd.Timestamp("2026-11-02T20:00", tz="America/New_York"),
    ]
    rows = [{"entity": "c1", "served_at": at, "features": {}, "score": 0.5} for at in given]
    validated = prediction_rows("churn", 1, rows)
    assert {row["served_at"] for row in validated} == {"2026-11-03T01:00:00.000000Z"}
    with pytest.raises(InvalidInput) as refused:
        prediction_rows("churn", 1, [*rows, {**rows[0], "served_at": None}])
    assert str(refused.value).startswith("rows[4].served_at: NULL (no value) is not a time;")


def test_an_hourly_window_is_a_utc_hour_whatever_the_zone_of_now() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    window = window_of(Frequency.HOURLY, NOW.astimezone(india))  # 15:11 there, 09:41 UTC
    assert window.key == "2026-11-25T08:00:00.000000Z/2026-11-25T09:00:00.000000Z"
    midnight = window_of(Frequency.HOURLY, datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC))
    assert midnight.key == "2026-11-25T23:00:00.000000Z/2026-11-26T00:00:00.000000Z"


def _logged(features: list[dict[str, object]]) -> list[SimpleNamespace]:
    return [SimpleNamespace(features=json.dumps(f), score=0.5, label=None) for f in features]


def test_a_window_table_reads_typed_and_mixed_features_alike() -> None:
    kinds: dict[str, Kind] = {"tenure": "numeric", "plan": "categorical"}
    typed = [{"tenure": 3, "plan": "pro"}, {"tenure": 2.5, "plan": None}, {"other": 1}]
    table = window_table(_logged(typed), kinds, with_label=False)  # type: ignore[arg-type]
    assert table.to_pydict() == {
        "tenure": [3.0, 2.5, None],
        "plan": ["pro", None, None],
        "score": [0.5, 0.5, 0.5],
    }
    mixed = [*typed, {"tenure": "twelve", "plan": 7}, {"tenure": True, "plan": False}]
    table = window_table(_logged(mixed), kinds, with_label=False)  # type: ignore[arg-type]
    assert table.column("tenure").to_pylist() == [3.0, 2.5, None, None, None]
    assert table.column("plan").to_pylist() == ["pro", None, None, "7", "false"]
