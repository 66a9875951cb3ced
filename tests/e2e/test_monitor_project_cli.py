"""`lucid monitor` on a project in real processes: predictions and outcomes logged from
files, a profile, a run with alerts to a loopback webhook configured in lucid.yaml, a drill,
escalation, and bad input refused with one sentence and nothing stored."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lucid.contracts.validity import MonitoringPolicy
from lucid.monitoring.policy_file import dump_policy
from tests.conftest import run_lucid
from tests.monitoring_world import DAY1, DAY2, HttpReceiver, http_receiver, prediction_rows

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture
def project(tmp_path: Path, receiver: HttpReceiver) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["alerts"] = {
        "channels": [{"name": "hook", "kind": "webhook", "url": receiver.url + "/hook"}],
        "backoff_seconds": 0,
    }
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    return folder


def write_logs(folder: Path, shift: float) -> tuple[Path, Path]:
    predictions, outcomes = [], []
    for start, seed, sd in ((DAY1, 1, 0.0), (DAY2, 2, shift)):
        rows, labels = prediction_rows(start, 1000, seed=seed, tenure_shift_sd=sd)
        predictions += [
            {
                "id": r["id"],
                "entity": r["entity"],
                "served_at": r["served_at"],
                "score": r["score"],
                **r["features"],
            }
            for r in rows
        ]
        outcomes += labels
    pd.DataFrame(predictions).to_parquet(folder / "predictions.parquet")
    pd.DataFrame(outcomes).to_csv(folder / "outcomes.csv", index=False)
    return folder / "predictions.parquet", folder / "outcomes.csv"


def lucid(folder: Path, *args: str) -> tuple[int, str, str]:
    result = run_lucid("--project", str(folder), "monitor", *args)
    return result.code, result.stdout, result.stderr


def count(folder: Path, table: str) -> int:
    with sqlite3.connect(folder / "metadata.db") as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_log_profile_run_drill_and_escalate(project: Path, receiver: HttpReceiver) -> None:
    predictions, outcomes = write_logs(project, shift=1.0)
    assert (
        lucid(project, "predictions", str(predictions), "--model", "churn", "--version", "1")[0]
        == 0
    )
    code, out, err = lucid(project, "outcomes", str(outcomes), "--model", "churn", "--json")
    assert code == 0, err
    assert json.loads(out)["logged"] == 2000
    day1, day2, day3 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"
    code, out, err = lucid(
        project, "profile", "churn", "--version", "1", "--window-start", day1, "--window-end", day2
    )
    assert code == 0, err
    assert "tenure" in out
    window = ("--window-start", day2, "--window-end", day3)
    churn_policy = project / "churn_policy.yaml"
    churn_policy.write_text(dump_policy(MonitoringPolicy.churn_default("churn")))
    code, _, err = lucid(project, "policy", "set", "churn", str(churn_policy), "--rationale", "x")
    assert code == 0, err
    code, out, err = lucid(project, "run", "--model", "churn", *window, "--json")
    assert code == 0, err
    report = json.loads(out)
    levels = {(c["threshold"], c["feature"]): c["level"] for c in report["checks"]}
    assert levels[("psi", "tenure")] == "critical"
    assert levels[("accuracy_drop", "score")] == "ok"
    assert levels[("business_metric_drop", None)] == "insufficient_data"
    assert report["level"] == "critical" and report["created"] is True
    assert report["actions_taken"][0]["action"] == "retrain"
    assert report["actions_taken"][0]["outcome"] == "skipped"
    # The data team was alerted (critical PSI alerts the team its warning names).
    [(path, body)] = receiver.received
    assert path == "/hook" and body["target"] == "data_team" and body["level"] == "critical"
    # The stored runs, listed: the window, the level and the checks outside their band.
    code, out, err = lucid(project, "runs", "--model", "churn", "--json")
    assert code == 0, err
    [stored] = json.loads(out)
    assert stored["window"] == f"{day2[:-1]}.000000Z/{day3[:-1]}.000000Z"
    assert stored["level"] == "critical"
    code, out, err = lucid(project, "runs", "--model", "churn")
    assert code == 0, err
    assert day2 in out and "psi[tenure]=critical" in out and "retrain" in out
    # The same window again: the stored run, no second alert.
    code, out, _ = lucid(project, "run", "--model", "churn", *window)
    assert code == 0 and "already run" in out and len(receiver.received) == 1
    # A drill on the same window: nothing stored as a run.
    code, out, err = lucid(
        project,
        "drill",
        "--model",
        "churn",
        "--shift",
        "activity=+1sd",
        "--expect",
        "critical",
        *window,
    )
    assert code == 0, err
    assert "actions that would fire" in out
    code, _, err = lucid(
        project,
        "drill",
        "--model",
        "churn",
        "--shift",
        "activity=*1",
        "--expect",
        "critical",
        "--window-start",
        day1,
        "--window-end",
        day2,
    )
    assert code == 1 and "drill failed: expected at least critical" in err
    assert count(project, "monitoring_runs") == 1
    code, out, _ = lucid(project, "escalate")
    assert code == 0 and "0 alerts escalated" in out
    code, out, _ = lucid(project, "incidents", "--json")
    assert [i["status"] for i in json.loads(out)] == ["open"]


BAD_INPUT = [
    (["outcomes", "OUTCOMES", "--model", "churn"], "rows[1].label: must be 0 or 1"),
    (["predictions", "PREDICTIONS", "--model", "churn", "--version", " "], "version: must"),
    (["predictions", "PREDICTIONS", "--model", "Churn!", "--version", "1"], "name"),
    (["outcomes", "missing.csv", "--model", "churn"], "path: file"),
    (["outcomes", "OUTCOMES", "--model", "churn", "--horizon-days", "0"], "--horizon-days"),
    (["run", "--model", "churn", "--window-start", "2026-11-02"], "window: give both"),
    (
        ["run", "--model", "churn", "--window-start", "then", "--window-end", "x"],
        "--window-start: 'then' (text) is not a time",
    ),
    (["drill", "--model", "churn", "--shift", "tenure"], "shift: 'tenure' must be"),
    (["profile", "churn", "--version", "1"], "reference: give a reference file"),
    (["policy", "set", "other", "POLICY", "--rationale", "x"], "model: the file's policy"),
    (["policy", "set", "churn", "POLICY", "--rationale", " "], "rationale: must"),
    (["ack", "no-such-alert"], "No alert has the id no-such-alert"),
    (["runs", "--model", "churn", "--limit", "0"], "--limit: must be at least 1, not 0"),
]


def test_bad_input_is_one_sentence_exit_1_and_nothing_stored(project: Path) -> None:
    bad = project / "bad_outcomes.csv"
    pd.DataFrame(
        {"prediction_id": ["a", "b"], "label": [1, 2], "observed_at": ["2026-11-01"] * 2}
    ).to_csv(bad, index=False)
    predictions, _ = write_logs(project, shift=0.0)
    policy = project / "policy.yaml"
    policy.write_text(dump_policy(MonitoringPolicy.churn_default("churn")))
    swap = {"OUTCOMES": str(bad), "PREDICTIONS": str(predictions), "POLICY": str(policy)}
    tables = ("prediction_log", "outcome_log", "monitoring_runs", "monitoring_policies", "events")
    before = {table: count(project, table) for table in tables}
    for args, sentence in BAD_INPUT:
        code, out, err = lucid(project, *[swap.get(a, a) for a in args])
        assert code == 1, (args, out + err)
        assert sentence in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert {table: count(project, table) for table in tables} == before, args
