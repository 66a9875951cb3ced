"""Stored text is printed as written: a rationale or a diagnosis holding square brackets (the
monitoring names checks `psi[segment]`) is not taken for Rich markup and swallowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import skops.io
from sklearn.tree import DecisionTreeClassifier

from lucid.bootstrap import open_project
from lucid.contracts.value import BusinessImpact
from tests.conftest import CliResult, run_lucid
from tests.e2e.test_experiments_cli import setup_two_versions
from tests.e2e.test_models_cli import CONTRACT, approve_churn_features
from tests.experiment_counts import two_proportion_evidence

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BRACKETED = "checks outside their band: psi[segment]=warning, [bold]x[/bold]"


def ok(project: Path, *args: str) -> CliResult:
    result = run_lucid(*args, cwd=project, env={"LUCID_ACTOR": "ana", "COLUMNS": "400"})
    assert result.code == 0, result.stderr
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    approve_churn_features(folder)
    model = DecisionTreeClassifier(random_state=0).fit([[0.1, 1], [0.9, 30]], [1, 0])
    skops.io.dump(model, folder / "model.skops")
    setup_two_versions(folder)
    return folder


def test_events_incidents_and_history_print_brackets_as_written(project: Path) -> None:
    ok(
        project,
        *("events", "record", "Watch segments", "--decision", "add a segment check"),
        *("--subject", "model:churn", "--rationale", BRACKETED),
    )
    assert BRACKETED in ok(project, "events", "list").stdout

    opened = ok(project, "incidents", "open", "churn", "--summary", "complaints", "--json")
    incident = json.loads(opened.stdout)["id"]
    ok(project, "incidents", "ack", incident)
    ok(
        project,
        "incidents",
        "diagnose",
        incident,
        "--root-cause",
        "data_drift",
        "--details",
        BRACKETED,
        "--participant",
        "data-science",
    )
    shown = ok(project, "incidents", "show", incident).stdout
    assert f"diagnosis: {BRACKETED}" in shown

    impact = BusinessImpact.from_mapping(CONTRACT)
    with open_project(project, environ={}) as handle:
        evidence = two_proportion_evidence(impact, "churn@2", (800, 870), (1000, 1000))
        handle.registry.attach_evidence("churn", 2, evidence, actor="eve", rationale="exp-2")
        handle.registry.promote("churn", 2, "production", actor="ana", rationale=BRACKETED)
    history = ok(project, "models", "history", "churn").stdout
    assert BRACKETED in history
