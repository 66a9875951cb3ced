"""Change detection's bad paths: a policy whose `change_detection` has a negative allowance,
a decision interval of 0, a one-run baseline or an unknown key, or that writes a `cusum:`
threshold itself, is refused with one sentence naming the field and the rule, through the
SDK and the CLI, on SQLite and PostgreSQL, and nothing stored changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.validity import MonitoringPolicy
from lucid.errors import InvalidInput
from tests.conftest import new_project, run_lucid
from tests.security.stored_state import unchanged

REFUSALS = [
    ({"k": -0.5}, "change_detection.k: must be a finite number of sd ≥ 0, not -0.5"),
    ({"h": 0}, "change_detection.h: must be above 0 sd, not 0"),
    (
        {"baseline_runs": 1},
        "change_detection.baseline_runs: must be a whole number of runs ≥ 2 "
        "(a sd needs two), not 1",
    ),
    ({"hh": 5}, "change_detection.hh: unknown key; did you mean h?"),
]
WRITTEN_CUSUM = (
    "thresholds: cusum:psi is computed from the policy's change_detection, "
    "not written as a threshold"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "shop"
    url = request.getfixturevalue("postgres_schema") if request.param == "postgresql" else None
    environ = new_project(folder, url)
    return folder, environ


@pytest.fixture
def lucid(project: tuple[Path, dict[str, str]]) -> Iterator[Lucid]:
    folder, environ = project
    with open_project(folder, environ=environ) as handle:
        yield handle


def policy_with(detection: Any, *, cusum_threshold: bool = False) -> dict[str, Any]:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["change_detection"] = detection
    if cusum_threshold:
        raw["thresholds"][0]["metric"] = "cusum:psi"
    return raw


def test_sdk_refuses_bad_change_detection(lucid: Lucid) -> None:
    with unchanged(lucid):
        for detection, sentence in REFUSALS:
            with pytest.raises(InvalidInput) as refused:
                lucid.monitoring.set_policy(
                    MonitoringPolicy.from_mapping(policy_with(detection)),
                    actor="dana",
                    rationale="r",
                )
            assert str(refused.value) == sentence
        with pytest.raises(InvalidInput) as refused:
            MonitoringPolicy.from_mapping(policy_with({}, cusum_threshold=True))
        assert str(refused.value) == WRITTEN_CUSUM


def test_cli_refuses_bad_change_detection(
    project: tuple[Path, dict[str, str]], lucid: Lucid, tmp_path: Path
) -> None:
    _, environ = project
    cases = [*((policy_with(d), s) for d, s in REFUSALS[:2])]
    cases.append((policy_with({}, cusum_threshold=True), WRITTEN_CUSUM))
    with unchanged(lucid):
        for number, (raw, sentence) in enumerate(cases):
            file = tmp_path / f"policy_{number}.yaml"
            file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
            result = run_lucid(
                "monitor", "policy", "set", "churn", str(file), "--rationale", "r", env=environ
            )
            assert result.code == 1, result
            assert "Traceback" not in result.stderr
            assert sentence in " ".join(result.stderr.split())
