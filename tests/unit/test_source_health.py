"""Data health of a source on DuckDB, from Parquet files as the feature store reads them:
volume against the same weekday in the trailing weeks, freshness, ingestion lag, NULL share
and schema changes, graded by the default source thresholds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lucid.contracts.semantic.sources import ColumnType, Source, SourceKind
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.source_health import default_source_thresholds, trailing_windows
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.monitoring.source_health import measure_source, measure_sources

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 56  # eight weeks, Monday to Sunday
VOLUME = {0: 1000, 6: 200}  # Mondays busy, Sundays quiet, 600 on other days
SCHEMA = {
    "customer_id": ColumnType.STRING,
    "event_time": ColumnType.TIMESTAMP,
    "amount": ColumnType.DOUBLE,
    "device": ColumnType.STRING,
    "loaded_at": ColumnType.TIMESTAMP,
}

Events = Callable[[pd.DataFrame], pd.DataFrame]


def events(seed: int = 1) -> pd.DataFrame:
    """Eight weeks of events: 1,000 on Mondays, 200 on Sundays, 600 on other days; each
    loaded two hours after it happened."""
    rng = np.random.default_rng(seed)
    frames = []
    for offset in range(DAYS):
        day = (MONDAY + timedelta(days=offset)).replace(tzinfo=None)
        n = VOLUME.get(day.weekday(), 600)
        times = day + pd.to_timedelta(np.sort(rng.uniform(0, 86_400, n)), unit="s")
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{i}" for i in range(n)],
                    "event_time": times,
                    "amount": rng.normal(10, 2, n),
                    "device": rng.choice(["ios", "android", "web"], n),
                    "loaded_at": times + pd.Timedelta(hours=2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def day(offset: int) -> tuple[datetime, datetime]:
    start = MONDAY + timedelta(days=offset)
    return start, start + timedelta(days=1)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDBEngine]:
    with DuckDBEngine(tmp_path) as duck:
        yield duck


def source(folder: Path, frame: pd.DataFrame) -> Source:
    """`frame` written as the Parquet file of source `activity`."""
    # Microseconds, as warehouses write them (Spark refuses nanosecond timestamps).
    frame.to_parquet(
        folder / "activity.parquet",
        index=False,
        coerce_timestamps="us",
        allow_truncated_timestamps=True,
    )
    return Source(
        "activity",
        SourceKind.PARQUET,
        "activity.parquet",
        "customer",
        "customer_id",
        "event_time",
        SCHEMA,
        ingestion_time="loaded_at",
    )


def graded(measured: list[Measurement]) -> dict[tuple[str, str | None], Level]:
    """The level of each measurement under the default source thresholds."""
    policy = MonitoringPolicy(
        "churn", default_source_thresholds(), MonitoringPolicy.churn_default().reporting
    )
    return {
        (check.measurement.metric, check.measurement.feature): check.level
        for check in policy.evaluate(measured).checks
    }


def measured(engine: DuckDBEngine, src: Source, offset: int) -> dict[tuple[str, str | None], Any]:
    return {(m.metric, m.feature): m for m in measure_source(engine, src, day(offset), 100)}


def test_a_monday_and_a_sunday_at_their_usual_volumes_are_ok(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    src = source(tmp_path, events())
    for offset in (49, 55):  # the eighth Monday and the eighth Sunday
        found = measure_source(engine, src, day(offset), 100)
        assert set(graded(found).values()) == {Level.OK}
        [volume] = [m for m in found if m.metric == "source_volume_ratio"]
        assert volume.value == 1.0
        assert volume.details["weeks_used"] == 4
        assert volume.details["window_rows"] == VOLUME[day(offset)[0].weekday()]
        # Against the mean day (~630 rows) the Sunday would have looked 70 % short.
        assert volume.details["expected_rows"] == VOLUME[day(offset)[0].weekday()]


def test_a_source_silent_for_a_day_is_critical_on_that_day(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    frame = events()
    silent_start, silent_end = (t.replace(tzinfo=None) for t in day(50))
    kept = ~frame.event_time.between(silent_start, silent_end, inclusive="left")
    src = source(tmp_path, frame[kept])
    levels = graded(measure_source(engine, src, day(50), 100))
    assert levels["source_volume_ratio", "source:activity"] is Level.CRITICAL
    found = measured(engine, src, 50)["source_volume_ratio", "source:activity"]
    assert found.value == pytest.approx(1 / 601)
    assert found.details["window_rows"] == 0 and found.details["expected_rows"] == 600
    assert (
        graded(measure_source(engine, src, day(51), 100))["source_volume_ratio", "source:activity"]
        is Level.OK
    )


def test_a_source_that_stops_updating_is_stale(tmp_path: Path, engine: DuckDBEngine) -> None:
    frame = events()
    stop = (MONDAY + timedelta(days=50, hours=12)).replace(tzinfo=None)
    src = source(tmp_path, frame[frame.event_time < stop])
    on_the_day = measured(engine, src, 50)["source_freshness_hours", "source:activity"]
    assert 12 <= on_the_day.value < 12.1
    two_days_on = measure_source(engine, src, day(52), 100)
    assert graded(two_days_on)["source_freshness_hours", "source:activity"] is Level.CRITICAL
    [freshness] = [m for m in two_days_on if m.metric == "source_freshness_hours"]
    assert 60 <= freshness.value < 60.1
    assert freshness.details["newest_event"].startswith("2026-02-24T11:")


def test_a_source_silent_longer_than_the_trailing_weeks_still_dates_its_newest_event(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    frame = events()
    src = source(tmp_path, frame[frame.event_time < datetime(2026, 1, 12)])
    found = measured(engine, src, 49)
    assert found["source_freshness_hours", "source:activity"].value == pytest.approx(
        (day(49)[1] - datetime(2026, 1, 12, tzinfo=UTC)).total_seconds() / 3600, abs=0.1
    )
    assert found["source_volume_ratio", "source:activity"].value == 1.0  # nothing expected


def test_a_column_filling_with_nulls_is_critical_for_that_column(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    frame = events()
    start, end = (t.replace(tzinfo=None) for t in day(50))
    on_day = frame.index[frame.event_time.between(start, end, inclusive="left")]
    frame.loc[on_day[: int(len(on_day) * 0.3)], "device"] = None
    frame.loc[on_day[:10], "amount"] = np.nan  # NaN is missing too: 10 of 600, under 5 %
    src = source(tmp_path, frame)
    found = measure_source(engine, src, day(50), 100)
    levels = graded(found)
    assert levels["source_null_share_rise", "source:activity.device"] is Level.CRITICAL
    assert levels["source_null_share_rise", "source:activity.amount"] is Level.OK
    assert levels["source_null_share_rise", "source:activity.customer_id"] is Level.OK
    shares = {(m.metric, m.feature): m.value for m in found}
    assert shares["source_null_share", "source:activity.device"] == pytest.approx(0.3)
    assert shares["source_null_share", "source:activity.amount"] == pytest.approx(10 / 600)


@pytest.mark.parametrize(
    ("change", "count", "level", "said"),
    [
        (lambda f: f.drop(columns=["device"]), 1, Level.WARNING, {"removed": "device"}),
        (
            lambda f: f.assign(amount=f.amount.round(2).astype(str)),
            1,
            Level.WARNING,
            {"retyped": "amount (double -> string)"},
        ),
        (
            lambda f: f.drop(columns=["device"]).assign(channel="app"),
            2,
            Level.CRITICAL,
            {"removed": "device", "added": "channel"},
        ),
    ],
)
def test_a_column_removed_retyped_or_added_is_a_schema_change(
    tmp_path: Path,
    engine: DuckDBEngine,
    change: Events,
    count: int,
    level: Level,
    said: dict[str, str],
) -> None:
    src = source(tmp_path, change(events()))
    found = measured(engine, src, 50)["schema_changes", "source:activity"]
    assert found.value == count
    assert {key: found.details[key] for key in said} == said
    assert graded([found])["schema_changes", "source:activity"] is level


def test_the_declared_schema_read_back_is_no_change(tmp_path: Path, engine: DuckDBEngine) -> None:
    src = source(tmp_path, events())
    assert measured(engine, src, 50)["schema_changes", "source:activity"].value == 0


def test_a_source_that_cannot_be_read_has_lost_its_columns(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    src = source(tmp_path, events())
    (tmp_path / "activity.parquet").unlink()
    found = measure_sources(engine, {"activity": src}, day(50), minimum_rows=100)
    levels = graded(found)
    assert levels["schema_changes", "source:activity"] is Level.CRITICAL
    assert levels["source_volume_ratio", "source:activity"] is Level.INSUFFICIENT_DATA
    [schema] = [m for m in found if m.metric == "schema_changes"]
    assert schema.value == len(SCHEMA)
    assert str(schema.note).startswith("the source cannot be read: source activity.location:")


def test_ingestion_lag_is_the_mean_delay_of_the_windows_rows(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    src = source(tmp_path, events())
    lag = measured(engine, src, 50)["source_ingestion_lag_hours", "source:activity"]
    assert lag.value == pytest.approx(2.0)


def test_short_history_falls_back_to_the_mean_rate_then_to_insufficient_data(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    src = source(tmp_path, events())
    first_day = measured(engine, src, 0)["source_volume_ratio", "source:activity"]
    assert first_day.value is None and not first_day.sufficient
    assert graded([first_day])["source_volume_ratio", "source:activity"] is (
        Level.INSUFFICIENT_DATA
    )
    third_day = measured(engine, src, 2)["source_volume_ratio", "source:activity"]
    assert third_day.details["weeks_used"] == 0
    assert third_day.details["expected_rows"] == pytest.approx(800, rel=0.01)  # (1000 + 600) / 2
    assert "not weekday-aware" in str(third_day.note)
    second_week = measured(engine, src, 9)["source_volume_ratio", "source:activity"]
    assert second_week.details["weeks_used"] == 1 and second_week.value == 1.0


def test_a_source_volume_threshold_of_the_wrong_sign_is_refused() -> None:
    raw = MonitoringPolicy.churn_default().to_mapping()
    raw["thresholds"].append(
        {
            "drift_type": "data",
            "metric": "source_volume_ratio",
            "warning": 0.2,
            "critical": 0.5,
            "warning_action": ["alert:data_team"],
            "critical_action": ["alert:data_team"],
        }
    )
    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy.from_mapping(raw)
    assert str(refused.value) == (
        "thresholds[3].warning: must be above critical for source_volume_ratio, where lower is "
        "worse (got warning 0.2, critical 0.5)"
    )


@pytest.mark.parametrize(
    ("sources", "field", "rule"),
    [
        ("activity", "sources", "must be a list of source names, not 'activity'"),
        (["Activity"], "sources", "'Activity' is not a source name (a lower-case identifier)"),
        (["activity", "activity"], "sources", "activity is named twice; name it once"),
    ],
)
def test_a_policy_with_malformed_sources_is_refused(sources: Any, field: str, rule: str) -> None:
    raw = {**MonitoringPolicy.churn_default().to_mapping(), "sources": sources}
    with pytest.raises(InvalidInput) as refused:
        MonitoringPolicy.from_mapping(raw)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_a_policy_keeps_its_sources_through_its_mapping() -> None:
    raw = {**MonitoringPolicy.churn_default().to_mapping(), "sources": ["activity", "logins"]}
    policy = MonitoringPolicy.from_mapping(raw)
    assert policy.sources == ("activity", "logins")
    assert MonitoringPolicy.from_mapping(policy.to_mapping()) == policy
    assert "sources" not in MonitoringPolicy.churn_default().to_mapping()


def test_trailing_windows_are_the_same_weekday_and_hour_of_earlier_weeks() -> None:
    hour = (datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert trailing_windows(*hour, 2) == [
        (datetime(2026, 2, 23, 9, tzinfo=UTC), datetime(2026, 2, 23, 10, tzinfo=UTC)),
        (datetime(2026, 2, 16, 9, tzinfo=UTC), datetime(2026, 2, 16, 10, tzinfo=UTC)),
    ]
    month = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    [(start, end)] = trailing_windows(*month, 1)
    assert month[0] - start == timedelta(days=35) and end - start == timedelta(days=31)


def test_volume_evidence_is_the_conditional_poisson_test() -> None:
    from scipy import stats

    from lucid.contracts.validity.source_health import rate_change_pvalues

    # Four trailing weeks of 3 tickets a day, then 6: a doubling a quiet source shows by chance.
    drop, surge = rate_change_pvalues(6, 12, 1 / 5)
    assert surge == pytest.approx(stats.binom.sf(5, 18, 0.2), rel=1e-12)
    assert drop == pytest.approx(stats.binom.cdf(6, 18, 0.2), rel=1e-12)
    assert surge > 0.01
    # A busy source rising by 60 % is far past chance; the same rows are no evidence of a drop.
    drop, surge = rate_change_pvalues(1600, 4000, 1 / 5)
    assert surge < 1e-12 and drop > 0.99
    assert rate_change_pvalues(0, 0, 0.5) == (1.0, 1.0)
