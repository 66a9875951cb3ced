"""`lucid monitor check` in a real process: every check printed, bad input as one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lucid.contracts.validity import MonitoringPolicy
from lucid.monitoring.policy_file import dump_policy
from tests.conftest import run_lucid


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    reference = tmp_path / "reference.parquet"
    current = tmp_path / "current.csv"
    pd.DataFrame(
        {"tenure": rng.normal(size=2000), "plan": rng.choice(["free", "pro"], 2000)}
    ).to_parquet(reference)
    pd.DataFrame(
        {"tenure": rng.normal(0.5, size=1500), "plan": rng.choice(["free", "pro"], 1500)}
    ).to_csv(current, index=False)
    return reference, current


def test_check_prints_every_check_as_json(files: tuple[Path, Path], tmp_path: Path) -> None:
    reference, current = files
    policy = MonitoringPolicy.from_mapping(
        {
            **MonitoringPolicy.churn_default().to_mapping(),
            "thresholds": [
                {
                    "drift_type": "data",
                    "metric": "psi",
                    "warning": 0.1,
                    "critical": 0.2,
                    "warning_action": "alert:data_team",
                    "critical_action": "retrain",
                },
                {
                    "drift_type": "data",
                    "metric": "chi_square_pvalue",
                    "warning": 0.05,
                    "critical": 0.01,
                    "warning_action": "alert:data_team",
                    "critical_action": "investigate",
                },
            ],
        }
    )
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(dump_policy(policy))
    result = run_lucid(
        "monitor",
        "check",
        "--reference",
        str(reference),
        "--current",
        str(current),
        "--policy",
        str(policy_file),
        "--segment",
        "plan",
        "--json",
    )
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    levels = {(c["metric"], c["feature"], c["segment"]): c["level"] for c in report["checks"]}
    assert levels["psi", "tenure", None] == "critical"
    assert levels["psi", "tenure", "plan=free"] == "critical"
    assert ("psi", "tenure", "plan=pro") in levels
    assert report["level"] == "critical"
    assert report["actions"] == ["retrain"]


def test_check_with_the_default_policy_prints_a_table(files: tuple[Path, Path]) -> None:
    reference, current = files
    result = run_lucid("monitor", "check", "--reference", str(reference), "--current", str(current))
    assert result.code == 0, result.stderr
    assert "critical" in result.stdout
    assert "worst level critical; actions: retrain" in result.stdout


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_file", "error: current: file {tmp}/none.csv does not exist"),
        ("missing_column", "error: current.plan: column is missing from the current data"),
        ("bad_yaml", "error: policy: file {tmp}/policy.yaml is not valid YAML"),
        ("bad_field", "error: thresholds[0].warning: must be below critical for psi"),
        ("no_drift_threshold", "error: policy: has no data-drift threshold"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_1(
    files: tuple[Path, Path], tmp_path: Path, case: str, message: str
) -> None:
    reference, current = files
    args = ["monitor", "check", "--reference", str(reference), "--current", str(current)]
    policy_file = tmp_path / "policy.yaml"
    raw = MonitoringPolicy.churn_default().to_mapping()
    if case == "missing_file":
        args[-1] = str(tmp_path / "none.csv")
    elif case == "missing_column":
        only_tenure = tmp_path / "only_tenure.csv"
        pd.read_csv(current)[["tenure"]].to_csv(only_tenure, index=False)
        args[-1] = str(only_tenure)
    elif case == "bad_yaml":
        policy_file.write_text("model: [unclosed\n")
        args += ["--policy", str(policy_file)]
    elif case == "bad_field":
        raw["thresholds"][0]["warning"] = 0.3
        policy_file.write_text(json.dumps(raw))
        args += ["--policy", str(policy_file)]
    else:
        raw["thresholds"] = raw["thresholds"][1:]
        policy_file.write_text(json.dumps(raw))
        args += ["--policy", str(policy_file)]
    result = run_lucid(*args)
    assert result.code == 1, result.stdout
    assert message.format(tmp=tmp_path) in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # one sentence (wrapped at most)
