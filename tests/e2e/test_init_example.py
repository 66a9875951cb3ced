"""`lucid init --example`: refused in one sentence; refused or interrupted at any step, it leaves
the folder as it found it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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


def test_an_interrupted_example_leaves_no_half_made_project(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    making = subprocess.Popen(
        [sys.executable, "-m", "lucid", "init", "--example", "churn", str(folder)],
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (folder / CONFIG_FILE).exists() and making.poll() is None:
        assert time.monotonic() < deadline, "the example never wrote its project"
        time.sleep(0.05)
    time.sleep(0.3)  # into the simulated days
    making.send_signal(signal.SIGINT)
    making.communicate(timeout=60)
    assert making.returncode != 0
    assert not folder.exists(), sorted(p.name for p in folder.rglob("*"))[:10]
    assert run_lucid("init", "--example", "churn", str(folder)).code == 0  # not "not empty"
