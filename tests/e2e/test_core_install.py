"""The core install (no extras) in a fresh virtual environment: the demo runs on SQLite + DuckDB,
and a backend whose extra is missing answers with the `pip install` to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lucid.errors import ConfigurationError

pytestmark = pytest.mark.long  # a fresh virtual environment, then the demo

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LUCID_", "VIRTUAL_ENV"))}
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env={**environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=240,
    )


def _uv() -> tuple[str, ...]:
    """uv as `make test` runs it: `uv run` names its own binary in $UV (the venv's `python3`
    comes first on PATH there and has no uv module); else the `uv` on PATH; else `python3 -m uv`."""
    found = os.environ.get("UV") or shutil.which("uv")
    return (found,) if found else ("python3", "-m", "uv")


@pytest.fixture(scope="module")
def core_lucid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `lucid` script of a new venv holding `pip install <this repository>`, no extras."""
    venv = tmp_path_factory.mktemp("core") / "venv"
    uv = _uv()
    made = _run(*uv, "venv", "--quiet", "--python", sys.executable, venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # --python: run as `python -m uv`, uv would otherwise install into the interpreter running it
    installed = _run(*uv, "pip", "install", "--quiet", "--python", python, REPO)
    assert installed.returncode == 0, installed.stderr
    lacking = _run(python, "-c", "import importlib.util as u; print(u.find_spec('pyspark'))")
    assert lacking.stdout.strip() == "None", "the core install must not bring pyspark"
    return venv / "bin" / "lucid"


@pytest.mark.slow
def test_the_demo_runs_on_the_core_install(core_lucid: Path, tmp_path: Path) -> None:
    demo = _run(core_lucid, "demo", "--customers", "500", "--days", "120", "--dir", tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "report.html").is_file()


@pytest.mark.slow
def test_engine_spark_without_its_extra_names_the_install(core_lucid: Path, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    assert _run(core_lucid, "init", project).returncode == 0
    config = project / "lucid.yaml"
    config.write_text(config.read_text().replace("engine: duckdb", "engine: spark"))
    result = _run(core_lucid, "features", "materialize", cwd=project)
    assert result.returncode == ConfigurationError.exit_code
    assert result.stderr.strip() == (
        "error: engine: spark needs the pyspark package, which is not installed: "
        "pip install 'lucidml[spark]'"
    )
