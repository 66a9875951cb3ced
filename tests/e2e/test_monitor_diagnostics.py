"""A failing check names what moved, wherever it is shown: a real `lucid monitor run` over a
window whose tenure moved by +1 sd names the bins that moved most in its printed report and
its JSON, in the alert a loopback Slack webhook receives, and in the incident it opens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lucid.contracts.validity import MonitoringPolicy
from lucid.monitoring.policy_file import dump_policy
from tests.conftest import run_lucid
from tests.e2e.test_monitor_project_cli import write_logs
from tests.monitoring_world import HttpReceiver, http_receiver

pytestmark = pytest.mark.slow

DAY1, DAY2, DAY3 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


def lucid(folder: Path, *args: str) -> str:
    result = run_lucid("--project", str(folder), *args)
    assert result.code == 0, result.stderr
    return result.stdout


def test_a_failing_check_names_the_bins_that_moved_everywhere_it_is_shown(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["alerts"] = {
        "channels": [{"name": "chat", "kind": "slack", "url": receiver.url + "/chat"}],
        "backoff_seconds": 0,
    }
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    predictions, _ = write_logs(folder, shift=1.0)
    lucid(folder, "monitor", "predictions", str(predictions), "--model", "churn", "--version", "1")
    lucid(
        folder,
        *("monitor", "profile", "churn", "--version", "1"),
        *("--window-start", DAY1, "--window-end", DAY2),
    )
    policy = folder / "policy.yaml"
    policy.write_text(dump_policy(MonitoringPolicy.churn_default("churn")))
    lucid(folder, "monitor", "policy", "set", "churn", str(policy), "--rationale", "adopt")

    # The printed report: one line per failing check, naming the bins that moved most.
    printed = lucid(
        folder, "monitor", "run", "--model", "churn", "--window-start", DAY2, "--window-end", DAY3
    )
    [line] = [row for row in printed.splitlines() if "what moved: psi[tenure]" in row]
    assert "critical" in line and "moved most:" in line and "1000 current rows" in line

    # The JSON of the stored run: the moved bins in details, the same line in what_moved.
    [run] = json.loads(lucid(folder, "monitor", "runs", "--model", "churn", "--json"))
    tenure = next(c for c in run["checks"] if (c["metric"], c["feature"]) == ("psi", "tenure"))
    assert tenure["level"] == "critical"
    moved = tenure["details"]["moved"]
    assert 1 <= len(moved) <= 5
    contributions = [bin_["contribution"] for bin_ in moved]
    assert contributions == sorted(contributions, reverse=True)
    assert sum(contributions) <= tenure["value"] + 1e-9  # the terms of PSI, the largest ones
    top = moved[0]
    assert top["bin"].startswith("> ")  # +1 sd fills the highest decile
    assert top["current_share"] > 2 * top["reference_share"]
    assert top["current_rows"] > top["reference_rows"] / 2
    assert top["bin"] in tenure["what_moved"] and top["bin"] in line
    ok = next(c for c in run["checks"] if c["level"] == "ok")
    assert ok["what_moved"] is None

    # The alert's text, as the Slack webhook received it.
    [(path, body)] = receiver.received
    assert path == "/chat"
    [alerted] = [row for row in body["text"].splitlines() if row.startswith("- psi[tenure]")]
    assert "moved most:" in alerted and top["bin"] in alerted

    # The incident it opened starts from the findings (its diagnosis is left to people).
    [incident] = json.loads(lucid(folder, "incidents", "list", "--model", "churn", "--json"))
    assert incident["status"] == "open" and incident["diagnosis"] is None
    assert f"Monitoring run {run['id']} found:" in incident["summary"]
    assert tenure["what_moved"] in incident["summary"]
    shown = lucid(folder, "incidents", "show", incident["id"])
    assert "moved most:" in shown
