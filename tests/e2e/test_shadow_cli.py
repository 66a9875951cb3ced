"""`lucid shadow` in real processes: refusals with a sentence and nothing stored, then a
comparison started, scores logged from a file and its status read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from lucid.bootstrap import open_project
from lucid.monitoring import predictions
from lucid.storage.prediction_log import SqlPredictionLog
from tests.conftest import CliResult, run_lucid
from tests.e2e.service_world import build_project

pytestmark = pytest.mark.slow


def lucid(folder: Path, *args: str) -> CliResult:
    return run_lucid(*args, cwd=folder, env={"LUCID_ACTOR": "ana"})


def test_shadow_commands(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    build_project(folder, monitored=False)
    start = ("shadow", "start", "churn-v2-shadow", "--model", "churn", "--rationale", "rank?")
    refused = lucid(folder, *start, "--challenger", "2")
    assert (
        refused.code != 0
        and "churn@2 is" in refused.stderr
        and "challenger stage" in (refused.stderr)
    )
    with open_project(folder, environ={}) as handle:
        events = handle.events.count()
        now = datetime.now(UTC)
        handle.registry.promote("churn", 2, "challenger", actor="ana", rationale="shadow it")
        ids = predictions.log_predictions(
            SqlPredictionLog(handle.db),
            "churn",
            1,
            [
                {"entity": f"c{n:05d}", "served_at": now, "features": {}, "score": 0.5}
                for n in range(5)
            ],
        )
        assert handle.events.count() == events + 1  # the promotion only
    started = lucid(folder, *start, "--challenger", "2", "--metric", "auc", "--json")
    assert started.code == 0, started.stderr
    assert json.loads(started.stdout)["control_version"] == 1
    scores = tmp_path / "scores.csv"
    pd.DataFrame({"prediction_id": [*ids, "p-unknown"], "score": [0.1] * 6}).to_csv(
        scores, index=False
    )
    unknown = lucid(folder, "shadow", "log", "churn-v2-shadow", "--file", str(scores))
    assert unknown.code != 0 and "not logged predictions of churn@1" in unknown.stderr
    pd.DataFrame({"prediction_id": ids, "score": [0.1, 0.2, 0.3, 0.4, 0.5]}).to_csv(
        scores, index=False
    )
    logged = lucid(folder, "shadow", "log", "churn-v2-shadow", "--file", str(scores))
    assert logged.code == 0 and "Logged 5 shadow scores" in logged.stdout, logged.stderr
    status = lucid(folder, "shadow", "status", "churn-v2-shadow", "--json")
    assert json.loads(status.stdout)["pairs_logged"] == 5
    early = lucid(folder, "shadow", "conclude", "churn-v2-shadow", "--rationale", "now")
    assert early.code != 0 and "have not matured" in early.stderr
