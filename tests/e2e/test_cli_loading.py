"""The `lucid` root lists every command while importing only what the invoked one needs."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_lucid

COMMANDS = {
    "init": "lucid.cli.project:init",
    "demo": "lucid.cli.demo:demo",
    "schema": "lucid.cli.schema:schema",
    "deploy": "lucid.cli.deployments:deploy",
    "scorecard": "lucid.cli.scorecard:scorecard",
    "report": "lucid.cli.incidents:report",
    "serve": "lucid.cli.service:serve",
    "schedule": "lucid.cli.schedule:schedule",
    "db": "lucid.cli.db:app",
    "events": "lucid.cli.events:app",
    "features": "lucid.cli.features:app",
    "models": "lucid.cli.models:app",
    "monitor": "lucid.cli.monitor:app",
    "experiments": "lucid.cli.experiments:app",
    "shadow": "lucid.cli.shadow:app",
    "checkpoints": "lucid.cli.deployments:checkpoints_app",
    "incidents": "lucid.cli.incidents:app",
    "scenario": "lucid.cli.scenario:app",
    "tokens": "lucid.cli.service:tokens_app",
    "webhooks": "lucid.cli.service:webhooks_app",
}
"""Every subcommand of `lucid` and the function or Typer group behind it."""

HEAVY = ("sklearn", "numpy", "pyarrow", "duckdb", "polars", "pandas", "fastapi", "httpx")
"""Libraries no command of the metadata database needs."""


def _help_opening(target: str) -> str:
    """The first words of a command's help: its docstring, or its Typer group's help."""
    module, attribute = target.split(":")
    value = getattr(importlib.import_module(module), attribute)
    text = value.info.help if hasattr(value, "info") else inspect.getdoc(value)
    return " ".join(text.split()[:4])


def _imported_after(code: str, cwd: Path | None = None) -> set[str]:
    """The top-level modules loaded by `code` run in a new interpreter, beyond its start."""
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    assert completed.returncode == 0, completed.stderr
    return set(completed.stdout.splitlines()[-1].split())


def test_help_lists_every_command_with_its_help() -> None:
    result = run_lucid("--help")
    assert result.code == 0, result.stderr
    listed = " ".join(result.stdout.split())
    for name, target in COMMANDS.items():
        assert f" {name} " in listed, name
        assert _help_opening(target) in listed, name


def test_a_group_lists_its_subcommands_and_a_typo_is_answered_with_the_command() -> None:
    monitor = run_lucid("monitor", "--help")
    assert monitor.code == 0, monitor.stderr
    for sub in ("check", "predictions", "policy", "run", "alerts", "drill"):
        assert f" {sub} " in monitor.stdout, sub
    typo = run_lucid("scorcard")
    assert typo.code == 2
    assert "No such command 'scorcard'. Did you mean 'scorecard'?" in " ".join(
        typo.stderr.replace("│", " ").split()
    )


def test_importing_the_root_command_imports_no_heavy_library_nor_the_database() -> None:
    loaded = _imported_after("import lucid.cli.main")
    assert not loaded & {*HEAVY, "sqlalchemy"}, loaded & {*HEAVY, "sqlalchemy"}
    assert "typer" in loaded


@pytest.mark.parametrize("as_json", [False, True])
def test_scorecard_imports_no_heavy_library(tmp_path: Path, as_json: bool) -> None:
    project = tmp_path / "shop"
    assert run_lucid("init", str(project)).code == 0
    args = ["-p", str(project), "scorecard", *(["--json"] if as_json else [])]
    code = (
        "from lucid.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
    )
    loaded = _imported_after(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "sqlalchemy" in loaded
    assert ("rich" in loaded) is not as_json  # JSON is printed without Rich
    if as_json:
        result = run_lucid(*args)
        assert result.code == 0, result.stderr
        assert "override_shares" in json.loads(result.stdout)
