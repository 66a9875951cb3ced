"""`lucid incidents`, `lucid scorecard` and `lucid report` in real processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import skops.io
import yaml
from sklearn.tree import DecisionTreeClassifier

from lucid.bootstrap import open_project
from tests.conftest import CliResult, run_lucid
from tests.e2e.test_experiments_cli import setup_two_versions
from tests.e2e.test_models_cli import CONTRACT, approve_churn_features

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    approve_churn_features(folder)
    (folder / "contract.yaml").write_text(yaml.safe_dump(CONTRACT))
    model = DecisionTreeClassifier(random_state=0).fit([[0.1, 1], [0.9, 30]], [1, 0])
    skops.io.dump(model, folder / "model.skops")
    setup_two_versions(folder)
    return folder


def lucid(project: Path, *args: str) -> CliResult:
    return run_lucid(*args, cwd=project, env={"LUCID_ACTOR": "ana"})


def ok(project: Path, *args: str) -> CliResult:
    result = lucid(project, *args)
    assert result.code == 0, result.stderr
    return result


def refused(project: Path, *args: str, message: str) -> None:
    with open_project(project, environ={}) as handle:
        before = handle.events.count()
    result = lucid(project, *args)
    assert result.code == 1, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    with open_project(project, environ={}) as handle:
        assert handle.events.count() == before


def test_an_incident_from_opening_to_its_lesson_and_the_report(project: Path) -> None:
    today = datetime.now(UTC).date().isoformat()
    assert "No incident." in ok(project, "incidents", "list").stdout
    opened = json.loads(
        ok(
            project,
            *("incidents", "open", "churn", "--summary", "complaints doubled"),
            *("--level", "critical", "--json"),
        ).stdout
    )
    ident = opened["id"]
    assert (opened["status"], opened["opened_by"]) == ("open", "ana")
    refused(
        project,
        *("incidents", "diagnose", ident, "--root-cause", "data_drift", "--details", "d"),
        *("--participant", "ds"),
        message=f"Incident {ident} is open: diagnose needs it to be acknowledged or diagnosed; "
        "acknowledge it first.",
    )
    assert "now acknowledged" in ok(project, "incidents", "ack", ident).stdout
    refused(
        project,
        *("incidents", "diagnose", ident, "--root-cause", "gremlins", "--details", "d"),
        *("--participant", "ds"),
        message="error: root_cause: 'gremlins' is not a known root-cause category (one of "
        "data_drift, concept_drift,",
    )
    ok(
        project,
        *("incidents", "diagnose", ident, "--root-cause", "data_drift"),
        *("--details", "tenure moved", "--participant", "data-science"),
        *("--participant", "ana (marketing)"),
    )
    refused(
        project,
        *("incidents", "propose", ident, "retrain"),
        message="error: proposals: must be 2 or 3 testable hypotheses",
    )
    ok(project, "incidents", "propose", ident, "retrain", "add a tenure bucket")
    refused(
        project,
        *("incidents", "resolve", ident, "--resolution", "retrained"),
        message=f"Incident {ident} cannot close without a lesson",
    )
    ok(project, "incidents", "lesson", ident, "tenure drifts with pricing")
    before = json.loads(ok(project, "scorecard", "--json").stdout)
    assert (before["failures_documented_pct"], before["repeated_errors"]) == (0.0, 0)
    assert before["critical_incidents_undetected"] is None
    ok(project, "incidents", "resolve", ident, "--resolution", "retrained")
    after = json.loads(ok(project, "scorecard", "--json").stdout)
    assert after["failures_documented_pct"] == 100.0

    [listed] = json.loads(ok(project, "incidents", "list", "--status", "closed", "--json").stdout)
    shown = json.loads(ok(project, "incidents", "show", ident, "--json").stdout)
    assert listed == shown
    assert shown["participants"] == ["data-science", "ana (marketing)"]
    assert shown["lesson"] == "tenure drifts with pricing" and shown["resolution"] == "retrained"
    refused(project, "incidents", "show", "nope", message="error: No incident has the id nope.")

    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    refused(
        project,
        *("incidents", "declare-shift", "2026-13-01", "--description", "a drill"),
        message="error: STARTED_AT: '2026-13-01' (text) is not a time; write ISO 8601",
    )
    ok(project, "incidents", "declare-shift", later, "--description", "a drill")
    assert json.loads(ok(project, "scorecard", "--json").stdout)["critical_incidents_undetected"]

    ok(project, "report", "--since", today, "--out", "period.md")
    text = (project / "period.md").read_text()
    for expected in (
        "## Incidents and lessons",
        "tenure drifts with pricing",
        "data_drift: tenure moved",
        "## Scorecard trend (incident figures)",
        "| failures_documented_pct | 100 |",
    ):
        assert expected in text
    ok(project, "report", "--since", today, "--out", "period.html", "--format", "html")
    page = (project / "period.html").read_text()
    assert page.startswith("<!doctype html>") and "tenure drifts with pricing" in page
    refused(
        project,
        *("report", "--since", today, "--format", "pdf"),
        message="error: --format: must be md or html, not 'pdf'",
    )
    refused(
        project,
        *("report", "--since", "yesterday"),
        message="error: --since: 'yesterday' (text) is not a time; write ISO 8601",
    )
