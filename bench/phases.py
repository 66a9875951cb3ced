"""A bench's phases, each run alone in a new process of the bench's own script, so that each
one's time and peak memory are its own: the phase prints its figures as JSON on its last line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_phase(script: str, phase: str, workdir: Path, *options: str) -> dict[str, Any]:
    """`python SCRIPT --phase PHASE --workdir WORKDIR OPTIONS…`: the JSON of its last line;
    stops the bench with the phase's standard error when it fails."""
    command = [sys.executable, script, "--phase", phase, "--workdir", str(workdir), *options]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
