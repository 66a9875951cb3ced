"""Data-health checks through a project (SQLite): a reference profiled from one logged day
keeps its duration; a day where 30 % of `tenure` is NULL is critical on `null_share_rise`,
a day with no prediction is critical on `volume_ratio` (0). A health threshold of the wrong
sign is refused with a sentence through the SDK and the CLI, and nothing stored changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.validity import MonitoringPolicy, Reporting
from lucid.contracts.validity.health import default_health_thresholds
from lucid.errors import InvalidInput
from lucid.monitoring.health import DURATION
from tests.conftest import run_lucid
from tests.contract.test_registry import register, to_production
from tests.monitoring_world import prediction_rows
from tests.security.stored_state import unchanged

DAY = timedelta(days=1)
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
KINDS = {"tenure": "numeric", "activity": "numeric", "plan": "categorical"}


@contextmanager
def churn_with_nulls(folder: Path) -> Iterator[Lucid]:
    """A new project in `folder`: churn v1 in production, its predictions of day -4 profiled,
    of day -3 with 30 % of tenure NULL, nothing logged on day -2; no policy."""
    assert run_lucid("init", str(folder)).code == 0
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["approvers"] = ["bea"]  # a first version enters production by override
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    with open_project(folder) as lucid:
        register(lucid.registry, features=[])
        to_production(lucid.registry, 1)
        reference, _ = prediction_rows(TODAY - 4 * DAY, 1000, seed=1)
        current, _ = prediction_rows(TODAY - 3 * DAY, 1000, seed=2, prefix="q")
        for row in current[:300]:
            row["features"]["tenure"] = None
        lucid.monitoring.log_predictions("churn", 1, reference + current)
        lucid.monitoring.build_profile("churn", 1, start=TODAY - 4 * DAY, end=TODAY - 3 * DAY)
        yield lucid


@pytest.fixture
def lucid(tmp_path: Path) -> Iterator[Lucid]:
    """churn v1 in production; its predictions of day -4 profiled, of day -3 with 30 % of
    tenure NULL; nothing logged on day -2; a policy of the default health thresholds."""
    with churn_with_nulls(tmp_path / "shop") as lucid:
        policy = MonitoringPolicy(
            "churn", default_health_thresholds(KINDS), Reporting(("data@example.org",))
        )
        lucid.monitoring.set_policy(policy, actor="ana", rationale="data health")
        yield lucid


def levels(lucid: Lucid, start: datetime) -> dict[str, tuple[str, float | None]]:
    report = lucid.monitoring.run("churn", start=start, end=start + DAY)
    return {c["threshold"]: (c["level"], c["value"]) for c in report.record.checks}


def test_nulls_and_a_silent_day_are_critical(lucid: Lucid) -> None:
    profile, _ = lucid.monitoring.build_profile(
        "churn", 1, start=TODAY - 4 * DAY, end=TODAY - 3 * DAY
    )
    assert profile.metadata[DURATION] == DAY.total_seconds()
    nulls = levels(lucid, TODAY - 3 * DAY)
    assert nulls["null_share_rise[tenure]"] == ("critical", pytest.approx(0.3))
    assert nulls["null_share_rise[activity]"] == ("ok", 0.0)
    assert nulls["volume_ratio"] == ("ok", pytest.approx(1.0))
    silent = levels(lucid, TODAY - 2 * DAY)
    assert silent["volume_ratio"] == ("critical", 0.0)


def test_a_volume_threshold_of_the_wrong_sign_is_refused(lucid: Lucid, tmp_path: Path) -> None:
    raw = lucid.monitoring.policy("churn").to_mapping()
    volume = next(t for t in raw["thresholds"] if t["metric"] == "volume_ratio")
    volume["warning"], volume["critical"] = 0.2, 0.5
    index = raw["thresholds"].index(volume)
    sentence = f"thresholds[{index}].warning: must be above critical for volume_ratio"
    with unchanged(lucid):
        with pytest.raises(InvalidInput) as error:
            MonitoringPolicy.from_mapping(raw)
        assert str(error.value).startswith(sentence)
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(raw))
        result = run_lucid(
            "--project", str(tmp_path / "shop"), "monitor", "policy", "set", "churn",
            str(path), "--rationale", "r",
        )  # fmt: skip
        assert result.code != 0
        assert sentence in result.stderr


def test_the_generic_policy_of_a_model_without_one_flags_the_nulls(tmp_path: Path) -> None:
    """No policy set: the generic policy's health checks see the 30 % NULLs; it has no volume
    check (a reference from a file has no duration to scale by)."""
    with churn_with_nulls(tmp_path / "plain") as lucid:
        report = lucid.monitoring.run("churn", start=TODAY - 3 * DAY, end=TODAY - 2 * DAY)
    checks = report.record.checks
    worst = {c["threshold"]: c for c in checks if c["level"] == "critical"}
    assert worst["null_share_rise"]["value"] == pytest.approx(0.3)
    assert "tenure" in str(worst["null_share_rise"])
    assert not any(c["threshold"].startswith("volume_ratio") for c in checks)
    assert any(c["threshold"] == "psi" for c in checks)
