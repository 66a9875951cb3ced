"""The demo project's clock in real processes: `lucid demo` leaves both projects at the
world's end, the README's prediction example runs against it as written, and a CLI command
and the HTTP service of a project with `as_of` use that moment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lucid.cli.demo import world_end
from lucid.project import init_project, set_as_of
from tests.conftest import run_lucid
from tests.e2e.service_world import served

README = Path(__file__).parents[2] / "README.md"
AS_OF = "2019-12-31T00:00:00Z"


def readme_prediction_example() -> str:
    """The README's Python block that predicts against the demo project."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    [example] = [block for block in blocks if "lucid-demo/negentropic" in block]
    return str(example)


def test_the_readme_predicts_against_a_small_demo_at_the_worlds_end(tmp_path: Path) -> None:
    folder = tmp_path / "lucid-demo"
    run = run_lucid("demo", "--dir", str(folder), "--customers", "2000", "--days", "60", "--json")
    assert run.code == 0, run.stderr
    world = json.loads(run.stdout)["world"]
    end = world_end(world).strftime("%Y-%m-%dT%H:%M:%SZ")
    for arm in ("entropic", "negentropic"):
        assert f"as_of: '{end}'" in (folder / arm / "lucid.yaml").read_text()
    assert world["days"] == 60 and (folder / ".lucid-demo").is_file()
    example = readme_prediction_example()
    predicted = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env={**os.environ, "LUCID_PROJECT": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert predicted.returncode == 0, predicted.stderr
    assert re.fullmatch(r"churn v\d+: P\(churn\) = \[0\.\d+, 0\.\d+\]\n", predicted.stdout)
    again = run_lucid("demo", "--dir", str(folder), "--customers", "0", "--force")
    assert again.code == 1 and "customers" in again.stderr  # refused before anything is deleted
    assert (folder / "negentropic" / "lucid.yaml").is_file()


@pytest.fixture
def fixed(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    init_project(folder, actor="ana", environ={}).close()
    set_as_of(folder, AS_OF)
    return folder


def test_a_cli_command_and_the_http_service_use_the_projects_as_of(fixed: Path) -> None:
    created = run_lucid(
        "--project",
        str(fixed),
        "tokens",
        "create",
        "--person",
        "sam",
        "--role",
        "scientist",
        "--json",
    )
    assert created.code == 0, created.stderr
    token = json.loads(created.stdout)["token"]
    with served(fixed) as (base, _):
        auth = {"Authorization": f"Bearer {token}"}
        events = httpx.get(f"{base}/v1/events?limit=100", headers=auth, timeout=10)
        assert events.status_code == 200, events.text
        [issued] = [e for e in events.json()["events"] if e["type"] == "TokenCreated"]
        assert issued["occurred_at"].startswith("2019-12-31T00:00:00")
        signed = httpx.post(
            f"{base}/dashboard/login",
            data={"token": token},
            headers={"Origin": base},
            timeout=10,
        )
        assert signed.status_code == 303, signed.text
        page = httpx.get(f"{base}/dashboard", cookies=signed.cookies, timeout=10)
        assert page.status_code == 200 and 'id="as-of"' in page.text
        assert "as of 2019-12-31 00:00 UTC" in page.text
    bad = run_lucid("--project", str(fixed), "events", "list", env={"LUCID_AS_OF": "soon"})
    assert bad.code == 1 and "Setting as_of" in bad.stderr and "ISO 8601" in bad.stderr
    assert "Traceback" not in bad.stderr
