"""The scheduler's seal runs once a UTC day: rows logged later for an ended day wait for the
next day's first call, and nothing of the current day is sealed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lucid.bootstrap import open_project
from lucid.errors import NotFound
from lucid.project import init_project
from tests.monitoring_world import DAY1, DAY2, Clock, prediction_rows

D1, D2 = DAY1.date().isoformat(), DAY2.date().isoformat()


def test_the_daily_seal_runs_at_the_first_call_of_each_utc_day(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    with init_project(folder, actor="ops", environ={}):
        pass
    with open_project(folder, environ={}) as lucid:
        clock = Clock(DAY2 + timedelta(hours=1))
        lucid.clock = clock
        monitoring = lucid.monitoring
        monitoring.log_predictions("churn", 1, prediction_rows(DAY1, 300, seed=1)[0])
        served, _ = prediction_rows(DAY2, 48, seed=2, prefix="t")  # one every 30 minutes
        today = [row for row in served if row["served_at"] < clock.now]
        monitoring.log_predictions("churn", 1, today)

        sealed = monitoring.seal_daily()
        assert [(d["model"], d["day"], d["rows"]) for d in sealed.days] == [("churn", D1, 300)]

        monitoring.log_predictions("churn", 1, prediction_rows(DAY1, 30, seed=3, prefix="l")[0])
        clock.now += timedelta(hours=3)
        assert monitoring.seal_daily().days == []  # the same UTC day: not again

        clock.now = DAY2 + timedelta(days=1, minutes=5)  # the next UTC day's first call
        again = monitoring.seal_daily()
        assert sorted((d["day"], d["rows"]) for d in again.days) == [(D1, 30), (D2, len(today))]
        assert monitoring.seal_daily().days == []
        assert monitoring.log.counts("churn") == (300 + 30 + len(today), 0)


def test_a_seal_of_a_model_never_registered_nor_logged_is_not_found(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    with init_project(folder, actor="ops", environ={}):
        pass
    with open_project(folder, environ={}) as lucid:
        lucid.clock = Clock(DAY2 + timedelta(hours=1))
        monitoring = lucid.monitoring
        monitoring.log_predictions("churn", 1, prediction_rows(DAY1, 30, seed=1)[0])
        with pytest.raises(NotFound, match="No model nosuch is registered and nothing of it"):
            monitoring.seal("nosuch")
        assert monitoring.log.counts("churn") == (30, 0)  # the refusal moved nothing
        assert [(d["model"], d["rows"]) for d in monitoring.seal("churn").days] == [("churn", 30)]
        assert monitoring.seal("churn").days == []  # known, nothing left: no refusal
