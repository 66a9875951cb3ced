"""`lucid init --example`: refused in one sentence, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from lucid.settings import CONFIG_FILE
from tests.conftest import run_lucid


def test_an_unknown_example_is_refused_naming_the_option(tmp_path: Path) -> None:
    run = run_lucid("init", "--example", "fraud", str(tmp_path / "shop"))
    assert run.code == 1
    assert "--example: must be one of churn (got 'fraud')" in " ".join(run.stderr.split())
    assert not (tmp_path / "shop").exists()


def test_an_example_is_made_only_in_a_new_or_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    run = run_lucid("init", "--example", "churn", str(folder))
    assert run.code == 1 and "DIR:" in run.stderr and "is not empty" in run.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_the_example_project_takes_the_name_given(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    run = run_lucid("init", "--example", "churn", "--name", "retention-demo", str(folder))
    assert run.code == 0, run.stderr
    assert yaml.safe_load((folder / CONFIG_FILE).read_text())["name"] == "retention-demo"
    listed = run_lucid(
        "--project", str(folder), "events", "list", "--json", "--type", "ProjectInitialised"
    )
    [event] = json.loads(listed.stdout)["events"]
    assert event["payload"]["name"] == "retention-demo"


def test_a_refused_name_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, example in ((empty, ["--example", "churn"]), (tmp_path / "new", [])):
        run = run_lucid("init", *example, "--name", "   ", str(folder))
        assert run.code == 1
        assert "Setting name" in run.stderr and "must not be blank" in " ".join(run.stderr.split())
        assert not folder.exists() or not list(folder.iterdir()), list(folder.iterdir())
    assert empty.is_dir()  # the user's folder stays; only what init wrote is gone
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    run = run_lucid("init", str(kept), env={"LUCID_DATABASE_URL": "mysql://nowhere/db"})
    assert run.code == 1 and "database_url" in run.stderr
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]
    assert run_lucid("init", "--name", "shop", str(tmp_path / "new")).code == 0  # not "already"
