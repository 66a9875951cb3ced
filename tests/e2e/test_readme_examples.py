"""The README's marked shell examples run as written in a fresh `lucid init --example churn`
project, and the example is ready to serve: a prediction over HTTP, ids by their start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_lucid
from tests.e2e.service_world import served

pytestmark = pytest.mark.slow

README = Path(__file__).parents[2] / "README.md"
MARKER = "<!-- runs-in-test"
SERVE_LINE = "lucid serve"
README_URL = "http://127.0.0.1:8000"


def marked_blocks(text: str) -> dict[str, str]:
    """The fenced bash block after each `<!-- runs-in-test[: name] -->` marker, by name
    ("" for an unnamed marker)."""
    found = re.findall(r"<!-- runs-in-test(?::\s*(\S+))?\s*-->\n```bash\n(.*?)```", text, re.S)
    return {name: block for name, block in found}


def bash(script: str, folder: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    """`script` in bash (stopping at the first failing command) in `folder`, with a `lucid`
    on the PATH that runs this checkout's package."""
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "LUCID_PROJECT": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A fresh example project (made once, timed) and a folder holding a `lucid` command."""
    root = tmp_path_factory.mktemp("readme")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "lucid").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lucid "$@"\n')
    (bin_dir / "lucid").chmod(0o755)
    started = time.monotonic()
    made = run_lucid("init", "--example", "churn", "shop", cwd=root)
    seconds = time.monotonic() - started
    assert made.code == 0, made.stderr
    assert seconds < 60, f"lucid init --example churn took {seconds:.0f} s"
    yield root / "shop", bin_dir


def test_the_example_says_what_it_made_and_the_next_commands(shop: tuple[Path, Path]) -> None:
    folder, _ = shop
    output = run_lucid("--project", str(folder), "models", "list", "--json")
    assert output.code == 0, output.stderr
    [churn] = json.loads(output.stdout)
    assert churn["production"] == 1
    events = run_lucid("--project", str(folder), "events", "list", "--json", "--limit", "1000")
    types = [e["type"] for e in json.loads(events.stdout)["events"]]
    for kind in ("FeatureApproved", "EvidenceAttached", "ModelDeployed", "MonitoringPolicySet"):
        assert kind in types, kind
    assert "PromotionOverridden" not in types
    for sub in ("definitions/customer_activity.yaml", "legacy/legacy_activity.yaml", "data"):
        assert (folder / sub).exists(), sub
    assert "as_of:" in (folder / "lucid.yaml").read_text()


def test_the_readme_examples_run_as_written(shop: tuple[Path, Path]) -> None:
    folder, bin_dir = shop
    block = marked_blocks(README.read_text(encoding="utf-8"))[""]
    for needed in ("features training-set", "features materialize", "features get"):
        assert needed in block, f"the README's runnable block lost `{needed}`"
    ran = bash(block, folder, bin_dir)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Wrote " in ran.stdout and "train.parquet" in ran.stdout
    assert '"status": "fresh"' in ran.stdout
    assert (folder / "scored.parquet").is_file() and (folder / "policy.yaml").is_file()
    assert "### thresholds[]" in ran.stdout


def test_the_readme_serve_example_predicts_over_http(shop: tuple[Path, Path]) -> None:
    folder, bin_dir = shop
    lines = marked_blocks(README.read_text(encoding="utf-8"))["serve"].splitlines(keepends=True)
    assert lines[0].startswith(SERVE_LINE)
    with served(folder) as (base, _):
        ran = bash("".join(lines[1:]).replace(README_URL, base), folder, bin_dir)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        answer = json.loads(ran.stdout)
        assert answer["model"] == "churn" and answer["version"] == 1
        assert 0 <= answer["score"] <= 1
        token = run_lucid(
            "--project",
            str(folder),
            "tokens",
            "create",
            "--person",
            "vi",
            "--role",
            "viewer",
            "--json",
        )
        headers = {"Authorization": f"Bearer {json.loads(token.stdout)['token']}"}
        runs = httpx.get(f"{base}/v1/monitoring/runs?model=churn", headers=headers).json()
        run_id = runs["runs"][0]["id"]
        by_start = httpx.get(f"{base}/v1/monitoring/runs/{run_id[:8]}", headers=headers)
        assert by_start.status_code == 200 and by_start.json()["id"] == run_id
        short = httpx.get(f"{base}/v1/monitoring/runs/{run_id[:3]}", headers=headers)
        assert short.status_code == 422 and "at least 4 characters" in short.text


def test_an_incident_is_taken_by_the_start_of_its_id(shop: tuple[Path, Path]) -> None:
    folder, _ = shop

    def lucid(*args: str) -> tuple[int, str, str]:
        result = run_lucid("--project", str(folder), *args, env={"LUCID_ACTOR": "sam"})
        return result.code, result.stdout, result.stderr

    code, _, err = lucid("incidents", "open", "churn", "--summary", "drill", "--level", "warning")
    assert code == 0, err
    [incident] = json.loads(lucid("incidents", "list", "--json")[1])
    full = incident["id"]
    code, _, err = lucid("incidents", "ack", full[:3])
    assert code == 1 and "at least 4 characters" in err
    assert json.loads(lucid("incidents", "show", full, "--json")[1])["status"] == "open"
    code, _, err = lucid("incidents", "ack", full[:8])
    assert code == 0, err
    shown = json.loads(lucid("incidents", "show", full[:8], "--json")[1])
    assert shown["id"] == full and shown["status"] == "acknowledged"
