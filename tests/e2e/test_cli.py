"""The `lucid` command in real processes: init, db, events, errors as sentences, the demo."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_lucid


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    result = run_lucid("init", str(folder))
    assert result.code == 0, result.stderr
    return folder


def test_init_makes_an_embedded_project(project: Path) -> None:
    assert (project / "lucid.yaml").is_file()
    assert (project / "metadata.db").is_file()
    assert (project / "data").is_dir() and (project / "artifacts").is_dir()
    listed = run_lucid("events", "list", "--json", cwd=project)
    assert listed.code == 0, listed.stderr
    [event] = json.loads(listed.stdout)["events"]
    assert event["type"] == "ProjectInitialised"
    assert event["payload"]["name"] == "shop"


def test_init_refuses_an_existing_project_and_changes_nothing(project: Path) -> None:
    before = (project / "lucid.yaml").read_text()
    result = run_lucid("init", str(project))
    assert result.code == 1
    assert "is already a Lucid project" in result.stderr
    assert "Traceback" not in result.stderr
    assert (project / "lucid.yaml").read_text() == before
    assert len(json.loads(run_lucid("events", "list", "--json", cwd=project).stdout)["events"]) == 1


def test_record_list_and_filter_decisions(project: Path) -> None:
    for title in ("Adopt canonical activity", "Freeze churn model"):
        result = run_lucid(
            "events",
            "record",
            title,
            "--decision",
            "yes",
            "--subject",
            "model:churn@1",
            "--rationale",
            "seen in the audit",
            "--as",
            "ana",
            cwd=project,
        )
        assert result.code == 0, result.stderr
    page = json.loads(
        run_lucid(
            "events", "list", "--subject", "model:churn@1", "--limit", "1", "--json", cwd=project
        ).stdout
    )
    assert [e["payload"]["title"] for e in page["events"]] == ["Adopt canonical activity"]
    assert page["events"][0]["actor"] == "ana"
    rest = json.loads(
        run_lucid(
            "events",
            "list",
            "--subject",
            "model:churn@1",
            "--after",
            str(page["next_cursor"]),
            "--json",
            cwd=project,
        ).stdout
    )
    assert [e["payload"]["title"] for e in rest["events"]] == ["Freeze churn model"]
    assert rest["next_cursor"] is None
    table = run_lucid("events", "list", "--type", "DecisionRecorded", cwd=project)
    assert "Freeze churn model" not in table.stdout  # the table shows rationales, not payloads
    assert "seen in the audit" in table.stdout


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (
            ["events", "record", "t", "--decision", "d", "--subject", "model", "--rationale", "r"],
            "subject: 'model' must be written kind:id",
        ),
        (
            [
                "events",
                "record",
                "t",
                "--decision",
                "d",
                "--subject",
                "model:x",
                "--rationale",
                " ",
            ],
            "rationale: must say why",
        ),
        (["events", "list", "--limit", "0"], "limit: must be at least 1"),
        (["events", "list", "--subject", "Bad:x"], "kind 'Bad' must be lower-case"),
    ],
)
def test_bad_input_is_one_sentence_and_stores_nothing(
    project: Path, args: list[str], sentence: str
) -> None:
    result = run_lucid(*args, cwd=project)
    assert result.code == 1
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr
    assert len(json.loads(run_lucid("events", "list", "--json", cwd=project).stdout)["events"]) == 1


def test_verify_names_a_tampered_event(project: Path) -> None:
    run_lucid(
        "events",
        "record",
        "Ship v2",
        "--decision",
        "ship",
        "--subject",
        "model:churn@2",
        "--rationale",
        "A/B won",
        cwd=project,
    )
    assert json.loads(run_lucid("events", "verify", "--json", cwd=project).stdout)["ok"] is True
    with sqlite3.connect(project / "metadata.db") as connection:
        connection.execute("DROP TRIGGER events_append_only_update")
        connection.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
        [event_id] = connection.execute("SELECT id FROM events WHERE seq = 2").fetchone()
    result = run_lucid("events", "verify", "--json", cwd=project)
    assert result.code == 1
    verdict = json.loads(result.stdout)
    assert verdict["ok"] is False and verdict["first_bad"] == event_id
    assert "changed after it was recorded" in verdict["reason"]
    plain = run_lucid("events", "verify", cwd=project)
    assert plain.code == 1 and event_id in plain.stderr


def test_no_project_is_a_sentence_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_lucid("events", "list", cwd=tmp_path)
    assert result.code == 1
    assert "No lucid.yaml in" in result.stderr and "lucid init DIR" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_lucid("--debug", "events", "list", cwd=tmp_path)
    assert debug.code == 1 and "Traceback" in debug.stderr


def test_an_error_sentence_is_one_line_however_long(tmp_path: Path) -> None:
    """The terminal wraps a long sentence; the CLI never cuts a path or a command in two."""
    folder = tmp_path / ("a-folder-whose-name-is-long-" * 4) / "project"
    result = run_lucid("--project", str(folder), "events", "verify")
    assert result.code == 1
    assert result.stderr.count("\n") == 1 and len(result.stderr) > 160
    assert f"create one with `lucid init {folder}`" in result.stderr


def test_project_option_and_environment_override(project: Path, tmp_path: Path) -> None:
    assert run_lucid("--project", str(project), "events", "verify").code == 0
    other = tmp_path / "elsewhere.db"
    result = run_lucid(
        "--project",
        str(project),
        "events",
        "verify",
        env={"LUCID_DATABASE_URL": f"sqlite:///{other}"},
    )
    assert result.code == 1
    assert "has no Lucid schema yet" in result.stderr and "lucid db upgrade" in result.stderr
    upgraded = run_lucid(
        "--project", str(project), "db", "upgrade", env={"LUCID_DATABASE_URL": f"sqlite:///{other}"}
    )
    assert upgraded.code == 0 and "from revision none" in upgraded.stdout
    status = run_lucid(
        "--project",
        str(project),
        "db",
        "status",
        "--json",
        env={"LUCID_DATABASE_URL": f"sqlite:///{other}"},
    )
    assert json.loads(status.stdout)["ok"] is True


def test_a_broken_config_is_a_sentence(project: Path) -> None:
    (project / "lucid.yaml").write_text(
        "name: shop\ndatabase_url: sqlite:///m.db\n"
        "online_store_url: x\nartifacts_url: a\nengine: pandas\n"
    )
    result = run_lucid("events", "list", cwd=project)
    assert result.code == 1
    assert "Setting engine" in result.stderr and "Traceback" not in result.stderr


def test_foundation_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = run_lucid("demo", "--foundation", "--dir", str(tmp_path / "demo"))
    assert result.code == 0, result.stderr
    assert "Demo complete" in result.stdout
    assert "does not match its hash" in result.stdout
    assert "audit: 3 contradictory definitions of 'customer_activity'" in result.stdout
    assert "audit: 0 contradictions" in result.stdout
    assert "cannot approve it" in result.stdout
    assert "Scorecard measured from the stores and the log: contradictory_definitions=0" in (
        result.stdout.replace("\n", " ")
    )


def test_demo_refuses_bad_input_with_a_sentence_and_keeps_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    taken = run_lucid("demo", "--dir", str(folder), "--customers", "50", "--days", "10")
    assert taken.code == 1 and "--dir" in taken.stderr and "new or empty folder" in taken.stderr
    assert "Traceback" not in taken.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
    tiny = run_lucid("demo", "--dir", str(tmp_path / "new"), "--customers", "0")
    assert tiny.code == 1 and "customers" in tiny.stderr and "at least 1" in tiny.stderr
    assert "Traceback" not in tiny.stderr


def test_events_types_lists_the_whole_catalogue(project: Path) -> None:
    # A fresh process that imported none of the parts whose events it lists.
    result = run_lucid("events", "types", cwd=project)
    assert result.code == 0, result.stderr
    listed = set(result.stdout.split())
    for name in ("ModelPromoted", "TokenCreated", "SubscriptionAdded", "FeatureApproved"):
        assert name in listed
    assert len(listed) >= 50
