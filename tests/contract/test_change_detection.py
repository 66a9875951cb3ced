"""Daily runs with change detection on SQLite and PostgreSQL: a small sustained shift that
no single run grades is flagged by its `cusum:` check within days; unshifted runs are not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from lucid.contracts.validity import MonitoringPolicy
from lucid.engines.duckdb import DuckDBEngine
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import run_checks
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.monitoring import SqlMonitoringStore
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_monitoring_store import churn_window

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 10, 1)
BASELINE_RUNS = 14
DAYS = 2 * BASELINE_RUNS
SHIFT = 0.1
"""In tenure sd: PSI ≈ 0.02 at 2,000 rows a day, well under the single-run warning 0.1."""


def policy() -> MonitoringPolicy:
    return MonitoringPolicy.from_mapping(
        {
            "model": "churn",
            "thresholds": [
                {
                    "drift_type": "data",
                    "metric": "psi",
                    "feature": "tenure",
                    "warning": 0.1,
                    "critical": 0.2,
                    "warning_action": ["alert:data_team"],
                    "critical_action": ["alert:data_team"],
                }
            ],
            "reporting": {"stakeholders": ["data_team"]},
            "minimum_rows": 500,
            "change_detection": {"k": 0.5, "h": 5, "baseline_runs": BASELINE_RUNS},
        }
    )


def daily_levels(db: Database, engine: DuckDBEngine, shift: float) -> list[dict[str, str]]:
    """Run DAYS daily windows (the shift from the day after the baseline); each day's level
    of `psi` and of `cusum:psi`."""
    store = SqlMonitoringStore(db)
    engine.register("reference", churn_window(np.random.default_rng(1), 4000))
    store.save_profile("churn", "3", build_profile(engine, "reference"), created_at=NOW)
    rng = np.random.default_rng(21)
    levels = []
    for day in range(DAYS):
        moved = shift if day >= BASELINE_RUNS else 0.0
        engine.register("current", churn_window(rng, 2000, shift=moved))
        outcome = run_checks(
            engine,
            SqlUnitsOfWork(db, SqlEventLog(db)),
            policy(),
            version="3",
            table="current",
            window=(FIRST_DAY + timedelta(days=day)).isoformat(),
            now=NOW,
        )
        assert outcome.created
        levels.append({c["metric"]: c["level"] for c in outcome.record.checks})
    return levels


def test_a_small_sustained_shift_is_flagged_within_days(db: Database, engine: DuckDBEngine) -> None:
    levels = daily_levels(db, engine, SHIFT)
    assert all(day["psi"] == "ok" for day in levels)  # no single run sees it
    # PSI has a p-value: its CUSUM charts the evidence score, N(0, 1) with no drift, from the
    # first run on (no baseline to estimate).
    assert all(day["cusum:psi"] == "ok" for day in levels[:BASELINE_RUNS])
    flagged = [n for n, day in enumerate(levels) if day.get("cusum:psi") == "warning"]
    assert flagged, "the sustained shift was never flagged"
    assert BASELINE_RUNS <= flagged[0] < BASELINE_RUNS + 5  # within five daily runs
    stored = SqlMonitoringStore(db).find_run("churn", "2026-10-28")
    assert stored is not None and stored.level == "warning"
    cusum = next(c for c in stored.checks if c["metric"] == "cusum:psi")
    assert cusum["threshold"] == "cusum:psi[tenure]" and cusum["warning"] == 5


def test_unshifted_runs_raise_no_change_warning(db: Database, engine: DuckDBEngine) -> None:
    levels = daily_levels(db, engine, 0.0)
    assert all(day["psi"] == "ok" for day in levels)
    assert [day["cusum:psi"] for day in levels] == ["ok"] * DAYS
    with SqlUnitsOfWork(db, SqlEventLog(db)).read() as uow:
        history = uow.monitoring.check_history("churn", "3", "2026-10-05", limit=3)
        assert [[c["metric"] for c in run] for run in history] == [["psi", "cusum:psi"]] * 3
        first = uow.monitoring.check_history("churn", "3", "2026-10-05")
        assert [run[0]["value"] for run in first][1:] == [run[0]["value"] for run in history]
        assert uow.monitoring.check_history("churn", "4", "2026-12-01") == []
