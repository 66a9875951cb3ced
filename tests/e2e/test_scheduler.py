"""`lucid serve --schedule` in real processes, on SQLite and PostgreSQL: its one scheduler
runs the policy over the last complete window, alerts, and sends the digest — once, while a
second scheduler stands by; killing the leader hands the work to the other."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lucid.bootstrap import open_project
from lucid.contracts.events import format_time
from tests.conftest import run_lucid
from tests.contract.test_registry import register, to_production
from tests.e2e.service_world import free_port
from tests.monitoring_world import HttpReceiver, adopt_churn_policy, http_receiver, prediction_rows

pytestmark = pytest.mark.slow
REPOSITORY = Path(__file__).parents[2]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture(params=["sqlite", "postgresql"])
def environment(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "postgresql":
        return {"LUCID_DATABASE_URL": request.getfixturevalue("postgres_schema")}
    return {}


@pytest.fixture
def project(tmp_path: Path, receiver: HttpReceiver, environment: dict[str, str]) -> Path:
    """churn v1 in production with the seed's policy; its predictions logged two days ago
    (profiled) and yesterday (tenure drifted by one standard deviation)."""
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["approvers"] = ["bea"]  # a first version enters production by override
    config["alerts"] = {
        "channels": [{"name": "hook", "kind": "webhook", "url": receiver.url + "/hook"}],
        "backoff_seconds": 0,
    }
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    if environment:
        assert run_lucid("--project", str(folder), "db", "upgrade", env=environment).code == 0
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with open_project(folder, environ=environment) as lucid:
        register(lucid.registry, features=[])
        to_production(lucid.registry, 1)
        reference, _ = prediction_rows(today - timedelta(days=2), 1000, seed=1)
        current, _ = prediction_rows(today - timedelta(days=1), 1000, seed=2, tenure_shift_sd=1)
        lucid.monitoring.log_predictions("churn", 1, reference + current)
        lucid.monitoring.build_profile(
            "churn", 1, start=today - timedelta(days=2), end=today - timedelta(days=1)
        )
        adopt_churn_policy(lucid.monitoring)
    return folder


def start(args: list[str], environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lucid", *args],
        cwd=REPOSITORY,
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(what: str, check: Callable[[], Any], seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def tick_of(base: str) -> dict[str, Any] | None:
    tick: dict[str, Any] | None = httpx.get(f"{base}/readyz", timeout=2).json().get("scheduler")
    return tick


def stored(folder: Path, environment: dict[str, str]) -> tuple[Counter[str], list[str]]:
    with open_project(folder, environ=environment) as lucid:
        types = Counter(e.type for e in lucid.events.read(limit=10_000))
        windows = [r.window for r in lucid.monitoring.store.runs_starting_in("churn", "0", "9")]
    return types, windows


def test_serve_schedule_runs_each_window_once_and_a_standby_takes_over(
    project: Path, receiver: HttpReceiver, environment: dict[str, str]
) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = f"{format_time(today - timedelta(days=1))}/{format_time(today)}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(
        [
            *("--project", str(project), "serve", "--port", str(port), "--workers", "2"),
            *("--schedule", "--tick", "0.5"),
        ],
        environment,
    )
    standby: subprocess.Popen[bytes] | None = None
    try:
        first = wait_for("the first tick", lambda: tick_of(base))
        leader = int(first["holder"].rsplit(":", 1)[1])
        assert leader != server.pid  # the scheduler is a process of its own
        standby = start(["--project", str(project), "schedule", "--tick", "0.5"], environment)
        # Several ticks of the leader while the standby waits.
        wait_for("three more ticks", lambda: tick_of(base)["ticked_at"] > first["ticked_at"])
        time.sleep(2)
        tick = tick_of(base)
        assert tick is not None and tick["holder"] == first["holder"]
        types, windows = stored(project, environment)
        assert windows == [window]  # the last complete daily window, run once
        with open_project(project, environ=environment) as lucid:  # a tick sealed both days
            log = lucid.monitoring.log
            assert log.counts("churn") == (2000, 0) and log.sealable_days(format_time(today)) == []
        assert types["MonitoringRunRecorded"] == 1 and types["AlertRaised"] == 1
        assert types["DigestSent"] == 1
        kinds = sorted(body.get("kind", "alert") for _, body in receiver.received)
        assert kinds == ["alert", "digest"]
        metrics = httpx.get(f"{base}/metrics").text
        assert "lucid_scheduler_last_tick_timestamp_seconds" in metrics
        busy = run_lucid("--project", str(project), "schedule", "--once", env=environment)
        assert busy.code == 1 and "Another scheduler leads" in busy.stderr

        os.kill(leader, signal.SIGKILL)  # the leader dies: the standby takes over
        took_over = wait_for(
            "the standby to lead",
            lambda: (t := tick_of(base)) and t["holder"].endswith(f":{standby.pid}") and t,
        )
        assert took_over["summary"]["errors"] == []
        types, windows = stored(project, environment)
        assert windows == [window] and types["MonitoringRunRecorded"] == 1
        assert types["DigestSent"] == 1 and len(receiver.received) == 2
        again = run_lucid("--project", str(project), "monitor", "digest", "--json", env=environment)
        assert again.code == 0 and again.stdout.strip() == "[]"  # this period's was sent
    finally:
        for process in (standby, server):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    assert standby.returncode == 0  # SIGTERM: the scheduler stops between ticks


def test_bad_input_is_refused_with_a_sentence(project: Path, environment: dict[str, str]) -> None:
    cases = [
        (["schedule", "--tick", "0"], "--tick: must be a positive number of seconds"),
        (["serve", "--schedule", "--tick", "-1"], "--tick: must be a positive number of seconds"),
        (["monitor", "digest", "--model", "Not A Name"], "name"),
        (["monitor", "resume", "--model", "Not A Name"], "name"),
        (["monitor", "seal", "--before", "soon"], "before: must be a UTC day YYYY-MM-DD"),
        (["monitor", "seal", "--before", "2999-01-01"], "before: must be a UTC day not after"),
        (["monitor", "seal", "--model", "Not A Name"], "model: 'Not A Name' must be"),
        (["monitor", "seal", "--model", "nosuch"], "No model nosuch is registered and nothing"),
    ]
    for args, sentence in cases:
        result = run_lucid("--project", str(project), *args, env=environment)
        assert result.code == 1, args
        assert sentence in result.stderr and "Traceback" not in result.stderr
    types, windows = stored(project, environment)
    assert windows == [] and types["DigestSent"] == 0

    # The two ended days of rows, sealed on demand, then nothing left to seal; still verified.
    sealed = run_lucid("--project", str(project), "monitor", "seal", "--json", env=environment)
    assert sealed.code == 0, sealed.stderr
    assert [(d["rows"], d["segments"]) for d in json.loads(sealed.stdout)["days"]] == [
        (1000, 1),
        (1000, 1),
    ]
    again = run_lucid("--project", str(project), "monitor", "seal", env=environment)
    assert "0 prediction rows served before" in again.stdout
    verified = run_lucid("--project", str(project), "events", "verify", env=environment)
    assert verified.code == 0, verified.stdout + verified.stderr


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("environment", ["sqlite"], indirect=True)
def test_the_scheduler_of_serve_stops_with_it_and_the_setting_starts_it(
    project: Path, environment: dict[str, str]
) -> None:
    config = yaml.safe_load((project / "lucid.yaml").read_text())
    config["scheduler"] = {"enabled": True, "tick_seconds": 0.5}
    (project / "lucid.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(["--project", str(project), "serve", "--port", str(port)], environment)
    try:
        tick = wait_for("the first tick", lambda: tick_of(base))
        scheduler = int(tick["holder"].rsplit(":", 1)[1])
        assert not gone(scheduler)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    wait_for("the scheduler to stop", lambda: gone(scheduler), seconds=30)
