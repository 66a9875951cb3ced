"""`lucid scorecard` in real processes: a kept report prints what measuring printed, without
the database toolkit, and is measured again when a write, the clock or the settings move."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lucid.bootstrap import open_project
from lucid.storage.kept_reports import read_kept
from tests.conftest import CliResult, run_lucid
from tests.e2e.test_cli_loading import _imported_after


def _ok(project: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    result = run_lucid("-p", str(project), *args, env={"LUCID_ACTOR": "dana", **(env or {})})
    assert result.code == 0, result.stderr
    return result


def _main(project: Path, *args: str) -> str:
    """Code that runs `lucid -p PROJECT ARGS` in the interpreter and checks it succeeded."""
    return (
        "from lucid.cli.main import main\n"
        "try:\n"
        f"    main(['-p', {str(project)!r}, *{list(args)!r}])\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
    )


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    assert run_lucid("init", str(project)).code == 0
    return project


def test_a_kept_scorecard_prints_as_measured_without_the_database_toolkit(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    for args in (["scorecard"], ["scorecard", "--json"], ["scorecard", "--period", "year"]):
        measured = _ok(project, *args)
        assert _ok(project, *args).stdout == measured.stdout, args
    loaded = _imported_after(_main(project, "scorecard"))
    assert not loaded & {"sqlalchemy", "yaml", "duckdb", "numpy"}, loaded


def test_a_kept_scorecard_on_postgresql_is_read_with_psycopg_alone(
    tmp_path: Path, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUCID_DATABASE_URL", postgres_schema)
    project = _project(tmp_path)
    measured = _ok(project, "scorecard", "--json")
    assert _ok(project, "scorecard", "--json").stdout == measured.stdout
    loaded = _imported_after(_main(project, "scorecard", "--json"))
    assert "psycopg" in loaded and not loaded & {"sqlalchemy", "yaml", "rich"}, loaded
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    _ok(project, "incidents", "declare-shift", past, "--description", "a shock")
    assert (
        json.loads(_ok(project, "scorecard", "--json").stdout)["critical_incidents_undetected"] == 1
    )


def test_a_write_is_seen_at_the_next_call(tmp_path: Path) -> None:
    project = _project(tmp_path)
    measured = _ok(project, "scorecard", "--json").stdout
    assert _ok(project, "scorecard", "--json").stdout == measured  # kept
    assert json.loads(measured)["critical_incidents_undetected"] is None
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    _ok(project, "incidents", "declare-shift", past, "--description", "a shock")
    assert (
        json.loads(_ok(project, "scorecard", "--json").stdout)["critical_incidents_undetected"] == 1
    )


def test_a_declared_shift_counts_from_its_start_with_no_write(tmp_path: Path) -> None:
    project = _project(tmp_path)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    _ok(project, "incidents", "declare-shift", start.isoformat(), "--description", "a drill")
    kept = json.loads(_ok(project, "scorecard", "--json").stdout)
    assert kept["critical_incidents_undetected"] is None  # the shift has not started
    with open_project(project) as lucid, lucid.db.snapshot() as connection:
        [(until,)] = connection.execute(text("SELECT valid_until FROM kept_reports")).all()
    assert datetime.fromisoformat(until) == start

    def read(at: datetime) -> dict[str, Any] | None:
        return read_kept(project, "scorecard/month", os.environ, lambda: at)

    assert read(start - timedelta(microseconds=1)) == kept
    assert read(start) is None  # from its start the shift counts: measured again


def test_settings_refused_after_keeping_are_refused_again(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _ok(project, "scorecard")
    config = project / "lucid.yaml"
    config.write_text(config.read_text() + "skew_limit: 7\n")
    refused = run_lucid("-p", str(project), "scorecard")
    assert refused.code == 1
    assert "skew_limit" in refused.stderr
    bad_env = run_lucid("-p", str(project), "scorecard", env={"LUCID_AS_OF": "yesterday"})
    assert bad_env.code == 1 and "as_of" in bad_env.stderr


def test_a_bad_period_is_refused_with_reports_kept(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _ok(project, "scorecard")
    refused = run_lucid("-p", str(project), "scorecard", "--period", "week")
    assert refused.code == 1
    assert "--period: must be one of month, quarter, year, not 'week'" in refused.stderr


def test_recompute_compares_the_kept_report_and_finds_it_altered(tmp_path: Path) -> None:
    project = _project(tmp_path)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    _ok(project, "incidents", "declare-shift", past, "--description", "a shock")
    _ok(project, "scorecard")
    assert "cached and recomputed figures agree." in _ok(project, "scorecard", "--recompute").stdout
    _ok(project, "scorecard")  # the recomputed skew sums moved the state: kept again
    with open_project(project) as lucid, lucid.db.transaction() as connection:
        connection.execute(
            text(
                "UPDATE kept_reports SET body = REPLACE(body, "
                "'\"critical_incidents_undetected\": 1', '\"critical_incidents_undetected\": 0')"
            )
        )
    altered = json.loads(_ok(project, "scorecard", "--json").stdout)
    assert altered["critical_incidents_undetected"] == 0  # a row edited behind Lucid's back
    found = run_lucid("-p", str(project), "scorecard", "--recompute")
    assert found.code == 1
    assert "cached and recomputed figures differ: critical_incidents_undetected." in found.stdout
