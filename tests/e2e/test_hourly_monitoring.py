"""An hourly policy end to end: predictions logged over three hours, each hour run once it has
ended (UTC boundaries), the default window and the digest's period the last complete hour,
and an hour that has not ended refused with one sentence by the SDK, the CLI (runs and drills)
and the HTTP API, nothing stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lucid.bootstrap import open_project
from lucid.contracts.validity import Frequency, MonitoringPolicy
from lucid.contracts.validity.generic_policy import generic_policy
from lucid.errors import InvalidInput
from lucid.project import init_project
from tests.e2e.service_world import served
from tests.e2e.test_models_cli import lucid
from tests.monitoring_world import prediction_rows
from tests.security.stored_state import unchanged

pytestmark = pytest.mark.slow

HOUR = timedelta(hours=1)
RULE = "which is in the future (now "


def hourly(rows: list[dict[str, object]], start: datetime) -> list[dict[str, object]]:
    """`rows` (served over a day) squeezed into the hour from `start`."""
    return [
        {**row, "served_at": start + (row["served_at"] - rows[0]["served_at"]) / 24}  # type: ignore[operator]
        for row in rows
    ]


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, datetime]:
    """A project whose model `churn` has an hourly policy, a profile of the hour four hours
    ago and predictions logged in each of the three hours since; (folder, this hour)."""
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    folder = tmp_path / "shop"
    with init_project(folder, actor="ana", environ={}) as handle:
        monitoring = handle.monitoring
        for number, hours_ago in enumerate((4, 3, 2, 1)):
            start = this_hour - hours_ago * HOUR
            rows, _ = prediction_rows(start, 600, seed=number, prefix=f"h{hours_ago}")
            monitoring.log_predictions("churn", 1, hourly(rows, start))
        monitoring.build_profile("churn", 1, start=this_hour - 4 * HOUR, end=this_hour - 3 * HOUR)
        generic = generic_policy("churn", "ana")
        policy: MonitoringPolicy = replace(
            generic, reporting=replace(generic.reporting, frequency=Frequency.HOURLY)
        )
        monitoring.set_policy(policy, actor="ana", rationale="hourly")
    return folder, this_hour


def test_each_hour_runs_once_it_has_ended_and_the_default_is_the_last_one(
    project: tuple[Path, datetime],
) -> None:
    folder, this_hour = project
    with open_project(folder, environ={}) as handle:
        handle.clock = lambda: this_hour + timedelta(minutes=5)  # the hour may turn meanwhile
        windows = []
        for hours_ago in (3, 2, 1):
            start = this_hour - hours_ago * HOUR
            report = handle.monitoring.run("churn", start=start, end=start + HOUR)
            assert report.created
            windows.append(report.record.window)
            assert {c["current_rows"] for c in report.record.checks if c["metric"] == "psi"} == {
                600
            }
        assert windows == [
            f"{(this_hour - h * HOUR):%Y-%m-%dT%H:00:00.000000Z}/"
            f"{(this_hour - (h - 1) * HOUR):%Y-%m-%dT%H:00:00.000000Z}"
            for h in (3, 2, 1)
        ]
        default = handle.monitoring.run("churn")  # the last complete hour: already run
        assert not default.created and default.record.window == windows[-1]
        assert len(handle.monitoring.runs("churn").runs) == 3
        [digest] = handle.monitoring.send_digests(model="churn")  # the last complete hour's
        assert digest.digest.period == windows[-1]
        assert handle.monitoring.send_digests(model="churn") == []  # once per hour


def test_an_hour_that_has_not_ended_is_refused_everywhere_and_nothing_is_stored(
    project: tuple[Path, datetime],
) -> None:
    folder, _ = project
    with open_project(folder, environ={}) as handle, unchanged(handle):
        for ahead in (0, 1):  # the hour under way, then the next one
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + ahead * HOUR
            end = start + HOUR
            monitoring = handle.monitoring
            for attempt in (
                lambda: monitoring.run("churn", start=start, end=end),  # noqa: B023
                lambda: monitoring.drill("churn", ["tenure=+1sd"], start=start, end=end),  # noqa: B023
            ):
                with pytest.raises(InvalidInput, match=r"^window_end: window .* ends at ") as no:
                    attempt()
                assert RULE in str(no.value) and str(no.value).endswith("run it once it has ended")
            window = ("--window-start", start.isoformat(), "--window-end", end.isoformat())
            for command in (("run",), ("drill", "--shift", "tenure=+1sd")):
                result = lucid(folder, "monitor", *command, "--model", "churn", *window)
                assert result.code == 1 and result.stdout == ""
                sentence = " ".join(result.stderr.split())  # the console wraps long lines
                assert sentence.startswith("error: window_end: window ") and RULE in sentence
                assert sentence.endswith("run it once it has ended")


def test_the_http_api_runs_an_ended_hour_and_refuses_one_under_way(
    project: tuple[Path, datetime],
) -> None:
    folder, this_hour = project
    with open_project(folder, environ={}) as handle:
        secrets = {
            role: handle.tokens.create(
                person=person, role=role, teams=[], actor="admin", rationale="test"
            )[1]
            for role, person in (("scientist", "sam"), ("viewer", "vic"))
        }
    with served(folder) as (base, _):

        def post(role: str, **body: object) -> httpx.Response:
            headers = {"Authorization": f"Bearer {secrets[role]}"}
            return httpx.post(f"{base}/v1/monitoring/runs", json=body, headers=headers, timeout=60)

        ended = {
            "model": "churn",
            "window_start": (this_hour - 2 * HOUR).isoformat(),
            "window_end": (this_hour - HOUR).isoformat(),
        }
        with open_project(folder, environ={}) as handle, unchanged(handle):
            assert post("viewer", **ended).status_code == 403
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            for ahead in (0, 1):
                window = {
                    "window_start": (start + ahead * HOUR).isoformat(),
                    "window_end": (start + (ahead + 1) * HOUR).isoformat(),
                }
                answer = post("scientist", model="churn", **window)
                assert answer.status_code == 422, answer.text
                problem = answer.json()
                assert problem["field"] == "window_end"
                assert RULE in problem["detail"]
                assert problem["detail"].endswith("run it once it has ended")
        first = post("scientist", **ended)
        assert first.status_code == 200, first.text
        assert first.json()["created"] and first.json()["run"]["window"].startswith(
            f"{this_hour - 2 * HOUR:%Y-%m-%dT%H}"
        )
        again = post("scientist", **ended).json()
        assert not again["created"] and again["run"]["id"] == first.json()["run"]["id"]
