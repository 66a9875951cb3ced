"""A training pipeline for the retraining tests: the entry point `module:function` a project
registers in `training_pipelines`. It fits a small scikit-learn model."""

from __future__ import annotations

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
