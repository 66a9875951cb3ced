"""The traps of monitoring, closed: a window that has not ended is never run (SDK and CLI,
nothing stored), and a model registered without a policy gets the generic policy
alerting its owner, said at registration — never the churn template's placeholder teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lucid.bootstrap import open_project
from lucid.errors import InvalidInput
from lucid.monitoring.policy_file import dump_policy
from tests.e2e.test_models_cli import lucid, project, register
from tests.security.stored_state import unchanged

__all__ = ["project"]

pytestmark = pytest.mark.slow


def test_registration_says_the_generic_policy_and_whom_it_alerts(project: Path) -> None:
    result = register(project, "--artifact", "model.skops")
    assert result.code == 0, result.stderr
    assert (
        "No monitoring policy given: churn gets the generic policy (PSI and data health on "
        "every feature, daily), alerts go to ana." in " ".join(result.stdout.split())
    )
    with open_project(project) as handle:
        policy = handle.monitoring.policy("churn")
        assert handle.monitoring.models() == []  # said, not stored: a policy set later is first
    assert policy.reporting.stakeholders == ("ana",)
    assert policy.approving_teams == ("ana",)
    assert [t.metric for t in policy.thresholds] == [
        "psi", "null_share_rise", "out_of_range_share", "new_category_share",
        "vanished_category_share",
        # churn pins customer_activity_30d: the health of its sources too
        "source_volume_ratio", "source_volume_surge", "source_freshness_hours",
        "source_null_share_rise", "schema_changes",
    ]  # fmt: skip
    assert "company.com" not in dump_policy(policy)


def test_a_stored_policy_silences_the_notice(project: Path, tmp_path: Path) -> None:
    from lucid.contracts.validity import MonitoringPolicy

    template = tmp_path / "churn_policy.yaml"
    template.write_text(dump_policy(MonitoringPolicy.churn_default("churn")))
    stored = lucid(project, "monitor", "policy", "set", "churn", str(template), "--rationale", "x")
    assert stored.code == 0, stored.stderr
    result = register(project, "--artifact", "model.skops")
    assert result.code == 0, result.stderr
    assert "monitoring policy" not in result.stdout


def test_a_window_that_has_not_ended_is_refused_and_nothing_is_stored(project: Path) -> None:
    assert register(project, "--artifact", "model.skops").code == 0
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    rule = "which is in the future (now "
    with open_project(project) as handle, unchanged(handle):
        for start, end in ((today, tomorrow), (tomorrow, tomorrow + timedelta(days=1))):
            with pytest.raises(InvalidInput, match=r"^window_end: window .* ends at ") as refused:
                handle.monitoring.run("churn", start=start, end=end, version=1)
            assert rule in str(refused.value)
            assert str(refused.value).endswith("; run it once it has ended")
        window = ("--window-start", today.isoformat(), "--window-end", tomorrow.isoformat())
        result = lucid(project, "monitor", "run", "--model", "churn", *window)
        assert result.code == 1
        assert result.stdout == ""
        sentence = " ".join(result.stderr.split())  # the console wraps long lines
        assert sentence.startswith("error: window_end: window ") and rule in sentence
        assert sentence.endswith("run it once it has ended")


def test_a_policy_on_an_unknown_column_is_refused_by_the_cli_and_nothing_is_stored(
    project: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from lucid.contracts.validity import MonitoringPolicy

    assert register(project, "--artifact", "model.skops").code == 0
    template = MonitoringPolicy.churn_default("churn")
    psi = replace(template.thresholds[0], feature="customer_activty_30d")
    path = tmp_path / "typo.yaml"
    path.write_text(dump_policy(template.with_thresholds([psi, *template.thresholds[1:]])))
    with open_project(project) as handle, unchanged(handle):
        result = lucid(project, "monitor", "policy", "set", "churn", str(path), "--rationale", "x")
    assert result.code == 1 and result.stdout == ""
    sentence = " ".join(result.stderr.split())
    assert sentence.startswith(
        "error: thresholds[0].feature: 'customer_activty_30d' is not a column of churn: a "
        "threshold watches one of its pinned features or logged columns ("
    )
    assert "customer_activity_30d" in sentence
