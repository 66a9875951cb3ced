"""A training pipeline for the retraining tests: the entry point `module:function` a project
registers in `training_pipelines`. It fits a small scikit-learn model."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sklearn.linear_model import LogisticRegression

from lucid.monitoring.actions import RetrainingRequest

CALLS: list[RetrainingRequest] = []


def train(request: RetrainingRequest) -> tuple[Any, dict[str, float]]:
    CALLS.append(request)
    rows = [[0.1, 1], [0.2, 3], [0.8, 20], [0.9, 30], [0.15, 2], [0.85, 25]]
    model = LogisticRegression().fit(rows, [1, 1, 0, 0, 1, 0])
    return model, {"auc": 0.81}


def broken(request: RetrainingRequest) -> Any:
    raise RuntimeError("the feature table is missing")


class ProcessDied(BaseException):
    """Stands for the process dying mid-run: nothing in Lucid catches a BaseException."""


DIE_NEXT: list[bool] = []


def dies_once(request: RetrainingRequest) -> tuple[Any, dict[str, float]]:
    """Dies (raises `ProcessDied`) while `DIE_NEXT` holds a flag, then trains."""
    if DIE_NEXT:
        DIE_NEXT.pop()
        raise ProcessDied
    return train(request)


def blocking(request: RetrainingRequest) -> tuple[Any, dict[str, float]]:
    """Writes `started` in $LUCID_TEST_PIPELINE_DIR, then waits for a `release` file there:
    a test kills the process while it waits. Then trains."""
    folder = Path(os.environ["LUCID_TEST_PIPELINE_DIR"])
    (folder / "started").touch()
    deadline = time.monotonic() + 120
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("nobody released the blocking pipeline")
        time.sleep(0.05)
    return train(request)
