"""A `lucid monitor run` killed (SIGKILL) between its stored run and its actions — inside a
training pipeline, or while a receiver holds its alert — then the next run of the same
window finishes the follow-up: every alert, action and incident exactly once, on SQLite and
on PostgreSQL, in real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from lucid.bootstrap import open_project
from tests.conftest import run_lucid
from tests.contract.test_registry import register, to_production
from tests.monitoring_world import (
    DAY1,
    DAY2,
    DAY3,
    HttpReceiver,
    adopt_churn_policy,
    http_receiver,
    prediction_rows,
)

pytestmark = pytest.mark.slow
REPOSITORY = Path(__file__).parents[2]  # tests.contract.training_pipeline is imported from here


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture(params=["sqlite", "postgresql"])
def environment(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    env = {"LUCID_TEST_PIPELINE_DIR": str(tmp_path)}
    if request.param == "postgresql":
        env["LUCID_DATABASE_URL"] = request.getfixturevalue("postgres_schema")
    return env


@pytest.fixture
def project(tmp_path: Path, receiver: HttpReceiver, environment: dict[str, str]) -> Path:
    """churn v1 then v2 in production; v2's predictions logged on DAY1 (profiled) and DAY2
    (drifted, labels flipped); its retention observed under the rollback threshold."""
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["approvers"] = ["bea"]  # a first version enters production by override
    config["alerts"] = {
        "channels": [{"name": "hook", "kind": "webhook", "url": receiver.url + "/hook"}],
        "backoff_seconds": 0,
    }
    config["training_pipelines"] = {"churn": "tests.contract.training_pipeline:blocking"}
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    if "LUCID_DATABASE_URL" in environment:
        assert run_lucid("--project", str(folder), "db", "upgrade", env=environment).code == 0
    with open_project(folder, environ=environment) as lucid:
        for version in (1, 2):
            register(lucid.registry, features=[])
            to_production(lucid.registry, version)
        reference, ref_outcomes = prediction_rows(DAY1, 1000, seed=1)
        current, cur_outcomes = prediction_rows(
            DAY2, 1000, seed=2, tenure_shift_sd=1.0, flip_labels=0.3
        )
        lucid.monitoring.log_predictions("churn", 2, reference + current)
        lucid.monitoring.log_outcomes("churn", ref_outcomes + cur_outcomes)
        lucid.monitoring.build_profile("churn", 2, start=DAY1, end=DAY2)
        adopt_churn_policy(lucid.monitoring)
        lucid.registry.observe(
            "churn", 2, metric="retention_rate", value=0.77, period="2026-11", actor="bi"
        )
    return folder


def event_types(folder: Path, environment: dict[str, str]) -> Counter[str]:
    with open_project(folder, environ=environment) as lucid:
        return Counter(e.type for e in lucid.events.read(limit=10_000))


def test_a_run_killed_during_retraining_is_finished_once_by_the_next_run(
    project: Path, receiver: HttpReceiver, environment: dict[str, str], tmp_path: Path
) -> None:
    window = ("--window-start", DAY2.isoformat(), "--window-end", DAY3.isoformat())
    command = [sys.executable, "-m", "lucid", "--project", str(project), "monitor", "run"]
    process = subprocess.Popen(
        [*command, "--model", "churn", *window, "--json"],
        cwd=REPOSITORY,
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while not (tmp_path / "started").exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the run never reached its training pipeline"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    if process.stderr:
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    # Killed while retraining: the run, its alerts, the rollback and the freeze are stored;
    # the retraining and the incident are owed.
    seen = event_types(project, environment)
    assert seen["MonitoringRunRecorded"] == 1 and seen["AlertRaised"] == 2
    assert seen["ModelRolledBack"] == 1 and seen["ModelFrozen"] == 1
    assert seen["MonitoringActionTaken"] == 3  # rollback, freeze, investigate
    assert seen["IncidentOpened"] == 0 and seen["ModelRegistered"] == 2
    assert len(receiver.received) == 2

    (tmp_path / "release").touch()
    again = run_lucid(
        "--project",
        str(project),
        "monitor",
        "run",
        "--model",
        "churn",
        *window,
        "--json",
        cwd=REPOSITORY,
        env=environment,
    )
    assert again.code == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["resumed"] is True and report["created"] is False
    assert [(a["action"], a["outcome"]) for a in report["actions_taken"]] == [("retrain", "done")]
    assert report["incident"]["status"] == "open"

    seen = event_types(project, environment)
    assert seen["MonitoringRunRecorded"] == 1 and seen["AlertRaised"] == 2
    assert seen["ModelRolledBack"] == 1 and seen["ModelFrozen"] == 1
    assert seen["RollbackRefused"] == 0
    assert seen["MonitoringActionTaken"] == 4 and seen["ModelRegistered"] == 3
    assert seen["IncidentOpened"] == 1 and seen["MonitoringFollowUpResumed"] == 1
    assert len(receiver.received) == 2  # both alerts had been delivered: none sent again
    with open_project(project, environ=environment) as lucid:
        assert lucid.registry.production_version("churn").version == 1  # type: ignore[union-attr]
        assert lucid.registry.get_version("churn", 3).registered_by == "monitoring"
        assert lucid.events.verify().ok
    resumed = run_lucid("--project", str(project), "monitor", "resume", "--json", env=environment)
    assert resumed.code == 0 and json.loads(resumed.stdout) == []


@contextmanager
def blocking_receiver() -> Iterator[tuple[str, list[dict[str, Any]], threading.Event]]:
    """A real HTTP server on loopback that records each POST, then holds its answer until
    `release` is set (so a test can kill the sender while it waits)."""
    received: list[dict[str, Any]] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            release.wait(60)
            try:
                self.send_response(202)
                self.end_headers()
            except OSError:  # the sender was killed meanwhile
                pass

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_run_killed_while_a_receiver_holds_its_alert_delivers_it_on_the_next_run(
    project: Path, environment: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "release").touch()  # the training pipeline does not block in this test
    window = ("--window-start", DAY2.isoformat(), "--window-end", DAY3.isoformat())
    with blocking_receiver() as (url, received, release):
        config = yaml.safe_load((project / "lucid.yaml").read_text())
        config["alerts"]["channels"] = [{"name": "hook", "kind": "webhook", "url": url}]
        (project / "lucid.yaml").write_text(yaml.safe_dump(config))
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "lucid", "--project", str(project), "monitor", "run"),
                *("--model", "churn", *window),
            ],
            cwd=REPOSITORY,
            env={**os.environ, **environment},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        while not received:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        # Killed while the first alert was in flight: nothing after it was taken.
        seen = event_types(project, environment)
        assert seen["AlertRaised"] == 1 and seen["AlertDeliveryAttempted"] == 0
        assert seen["MonitoringActionTaken"] == 0 and seen["ModelRolledBack"] == 0

        release.set()
        again = run_lucid(
            "--project",
            str(project),
            "monitor",
            "run",
            "--model",
            "churn",
            *window,
            "--json",
            cwd=REPOSITORY,
            env=environment,
        )
    assert again.code == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["resumed"] is True
    assert sorted(a["action"] for a in report["actions_taken"]) == [
        "freeze",
        "investigate",
        "retrain",
        "rollback",
    ]
    seen = event_types(project, environment)
    assert seen["AlertRaised"] == 2 and seen["ModelRolledBack"] == 1 and seen["ModelFrozen"] == 1
    assert seen["MonitoringActionTaken"] == 4 and seen["IncidentOpened"] == 1
    assert seen["AlertDeliveryAttempted"] == 2  # the lost attempt was never recorded
    # The alert in flight when the sender died was sent again (same alert id): receivers
    # dedupe on it. The other team's alert was sent once.
    ids = Counter(body["alert_id"] for body in received)
    assert sorted(ids.values()) == [1, 2] and ids.most_common(1)[0][0] == received[0]["alert_id"]
