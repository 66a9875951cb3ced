"""Grading on effect and evidence through a project's runs (SQLite, DuckDB): a large PSI of a
small window is not flagged without evidence, a trivial shift of a large window is not
flagged however small its p-value, a real shift is; a false-alarm budget outside (0, 1) is
refused with a sentence through the CLI and nothing stored changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.validity import MonitoringPolicy, Reporting
from lucid.contracts.validity.actions import SEED_ACTIONS
from lucid.contracts.validity.evidence import drift_threshold
from lucid.contracts.validity.grades import DriftType
from lucid.contracts.validity.thresholds import Threshold
from tests.conftest import run_lucid
from tests.contract.test_registry import register, to_production
from tests.monitoring_world import prediction_rows
from tests.security.stored_state import unchanged

DAY = timedelta(days=1)
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
WARN, CRIT = SEED_ACTIONS["alert_data_team"], SEED_ACTIONS["freeze_deployment_and_investigate"]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Lucid, Path]]:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["approvers"] = ["bea"]  # a first version enters production by override
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    with open_project(folder) as lucid:
        register(lucid.registry, features=[])
        to_production(lucid.registry, 1)
        yield lucid, folder


def _checks(
    lucid: Lucid, policy: MonitoringPolicy, reference: int, current: int, shift: float
) -> list[dict[str, Any]]:
    """Log `reference` predictions on day -4 (profiled) and `current` on day -3 with tenure
    shifted by `shift` sd; set `policy`; the run of day -3's stored checks."""
    before, _ = prediction_rows(TODAY - 4 * DAY, reference, seed=1)
    after, _ = prediction_rows(TODAY - 3 * DAY, current, seed=2, tenure_shift_sd=shift, prefix="q")
    lucid.monitoring.log_predictions("churn", 1, before + after)
    lucid.monitoring.build_profile("churn", 1, start=TODAY - 4 * DAY, end=TODAY - 3 * DAY)
    lucid.monitoring.set_policy(policy, actor="ana", rationale="evidence")
    report = lucid.monitoring.run("churn", start=TODAY - 3 * DAY, end=TODAY - 2 * DAY)
    return list(report.record.checks)


def test_a_large_psi_of_a_small_window_is_not_flagged_without_evidence(
    project: tuple[Lucid, Path],
) -> None:
    lucid, _ = project
    seed_psi = Threshold(DriftType.DATA, "psi", 0.1, 0.2, WARN, CRIT)  # the seed's bounds
    policy = MonitoringPolicy("churn", (seed_psi,), Reporting(("ana",)), minimum_rows=30)
    checks = _checks(lucid, policy, 300, 40, 0.0)
    past = [c for c in checks if c["metric"] == "psi" and c["value"] >= 0.1]
    assert past, "noise at 300/40 rows puts PSI past 0.1 (the old rule's warning)"
    for check in past:
        assert check["level"] == "ok"
        assert check["adjusted_pvalue"] > 0.01
        assert "not raised: adjusted p" in check["note"]
        assert (
            f"> budget 0.01 at {check['reference_rows']}/{check['current_rows']} rows"
            in (check["note"])
        )


def test_a_trivial_shift_of_a_large_window_is_ok_and_a_real_one_is_flagged(
    project: tuple[Lucid, Path],
) -> None:
    lucid, _ = project
    thresholds = tuple(
        drift_threshold(m, WARN, CRIT) for m in ("ks_pvalue", "psi", "chi_square_pvalue")
    )
    policy = MonitoringPolicy("churn", thresholds, Reporting(("ana",)))
    checks = {(c["metric"], c["feature"]): c for c in _checks(lucid, policy, 8000, 8000, 0.07)}
    tenure = checks[("ks_pvalue", "tenure")]
    assert tenure["value"] < 0.001, "the p-value alone would be critical"
    assert tenure["adjusted_pvalue"] < 0.01
    assert tenure["level"] == "ok"
    assert "< minimum effect 0.06" in tenure["note"]
    assert checks[("psi", "tenure")]["level"] == "ok"
    assert all(c["level"] == "ok" for c in checks.values())


def test_a_quarter_sd_shift_is_flagged(project: tuple[Lucid, Path]) -> None:
    lucid, _ = project
    policy = MonitoringPolicy(
        "churn", (drift_threshold("psi", WARN, CRIT),), Reporting(("ana",)), minimum_rows=500
    )
    checks = {c["feature"]: c for c in _checks(lucid, policy, 2000, 2000, 0.25)}
    assert checks["tenure"]["level"] == "warning"
    assert checks["tenure"]["adjusted_pvalue"] < 1e-6
    assert checks["activity"]["level"] == "ok"


@pytest.mark.parametrize(
    ("budget", "sentence"),
    [
        (0, "false_alarm_budget: must be strictly between 0 and 1"),
        (1, "false_alarm_budget: must be strictly between 0 and 1"),
        (-1, "false_alarm_budget: must be strictly between 0 and 1"),
        ("x", "false_alarm_budget: must be a probability between 0 and 1, not 'x'"),
    ],
)
def test_a_budget_outside_zero_one_is_refused_through_the_cli(
    project: tuple[Lucid, Path], tmp_path: Path, budget: object, sentence: str
) -> None:
    lucid, folder = project
    raw = MonitoringPolicy(
        "churn", (drift_threshold("psi", WARN, CRIT),), Reporting(("ana",))
    ).to_mapping()
    raw["false_alarm_budget"] = budget
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw))
    with unchanged(lucid):
        result = run_lucid(
            "--project", str(folder), "monitor", "policy", "set", "churn", str(path),
            "--rationale", "r",
        )  # fmt: skip
        assert result.code == 1, result
        assert "Traceback" not in result.stderr
        assert sentence in " ".join(result.stderr.split())
