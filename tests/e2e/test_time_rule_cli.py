"""The one time rule on the command line: no offset means UTC, an offset is honoured, a bad
time is one sentence naming the option, and the machine's zone changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lucid.contracts.times import EXAMPLE
from tests.conftest import CliResult, run_lucid


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("times") / "shop"
    assert run_lucid("init", str(folder)).code == 0
    return folder


def lucid(project: Path, *args: str, zone: str = "UTC") -> CliResult:
    return run_lucid(*args, cwd=project, env={"LUCID_ACTOR": "ana", "TZ": zone})


def refusal(field: str, given: str) -> str:
    return f"error: {field}: {given!r} (text) is not a time; write ISO 8601, e.g. {EXAMPLE}\n"


def test_a_shift_start_without_offset_is_utc_and_an_offset_is_honoured(project: Path) -> None:
    said = [
        lucid(project, "incidents", "declare-shift", moment, "--description", "drill")
        for moment in ("2026-11-01T10:00", "2026-11-01T15:30+05:30", "2026-11-01T10:00:00Z")
    ]
    assert [r.code for r in said] == [0, 0, 0], [r.stderr for r in said]
    assert {r.stdout for r in said} == {"Known shift declared at 2026-11-01T10:00:00+00:00.\n"}
    bad = lucid(project, "incidents", "declare-shift", "soon", "--description", "drill")
    assert (bad.code, bad.stderr) == (1, refusal("STARTED_AT", "soon"))


def test_the_report_period_without_offset_starts_at_utc_midnight(
    project: Path, tmp_path: Path
) -> None:
    firsts = []
    for index, since in enumerate(("2026-11-01T00:00", "2026-11-01T05:30+05:30")):
        out = tmp_path / f"report{index}.md"
        done = lucid(project, "report", "--since", since, "--out", str(out))
        assert done.code == 0, done.stderr
        firsts.append(next(line for line in out.read_text().splitlines() if "| 2026-" in line))
    assert firsts[0] == firsts[1] and firsts[0].startswith("| 2026-11-01 00:00 |")
    bad = lucid(project, "report", "--since", "1st of May", "--out", str(tmp_path / "x.md"))
    assert (bad.code, bad.stderr) == (1, refusal("--since", "1st of May"))
    assert not (tmp_path / "x.md").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("checkpoints", "run"),
        ("models", "history", "churn"),
    ],
)
def test_at_options_take_a_time_without_offset_as_utc(project: Path, args: tuple[str]) -> None:
    for moment in ("2026-11-25T10:00", "2026-11-25T15:30+05:30"):
        done = lucid(project, *args, "--at", moment)
        assert done.code == 0, done.stderr
    bad = lucid(project, *args, "--at", "2026-13-01")
    assert (bad.code, bad.stderr) == (1, refusal("--at", "2026-13-01"))


def test_a_bad_window_names_its_option(project: Path) -> None:
    bad = lucid(
        project,
        "monitor",
        "run",
        "--model",
        "churn",
        "--window-start",
        "monday",
        "--window-end",
        "2026-11-02",
    )
    assert (bad.code, bad.stderr) == (1, refusal("--window-start", "monday"))


def test_the_machine_zone_changes_no_time(project: Path, tmp_path: Path) -> None:
    """The same commands under Asia/Kolkata (UTC+05:30) and UTC: the same instants."""
    outputs = []
    for zone in ("UTC", "Asia/Kolkata"):
        shift = lucid(
            project,
            "incidents",
            "declare-shift",
            "2026-10-01T08:00",
            "--description",
            "z",
            zone=zone,
        )
        out = tmp_path / f"{zone.replace('/', '-')}.md"
        report = lucid(
            project, "report", "--since", "2026-10-01T00:00", "--out", str(out), zone=zone
        )
        assert shift.code == 0 and report.code == 0, shift.stderr + report.stderr
        # The period's first row: its start (later rows depend on the clock's now).
        first = next(line for line in out.read_text().splitlines() if line.startswith("| 2026-"))
        outputs.append((shift.stdout, first))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == "Known shift declared at 2026-10-01T08:00:00+00:00.\n"
