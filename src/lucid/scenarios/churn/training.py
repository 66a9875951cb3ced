"""Training the churn model on the world's known outcomes, and the retraining pipeline.

Labels are what the business has learnt: a customer active at a snapshot day either churned
within the 14 days after it or did not, known once those days have passed. A scenario arm
writes each snapshot's labels under `labels/` in its project when they become known; training
reads the latest snapshots there, never the world's ground truth.

The model is a logistic regression on log1p of the pinned features (scaled), evaluated by the
AUC on the latest snapshot held out (unit: probability that a churner outranks a stayer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from lucid.errors import Conflict

if TYPE_CHECKING:
    from lucid.bootstrap import Lucid
    from lucid.monitoring.actions import RetrainingRequest

HORIZON_DAYS = 14
"""A label says whether a customer active at a snapshot churned within the next 14 days."""
LABEL = f"churned_within_{HORIZON_DAYS}d"
LABELS_FOLDER = "labels"
TRAINING_SNAPSHOTS = 6
"""How many of the latest known weekly snapshots a (re)training reads."""
WEEKLY = 7
"""A training reads one snapshot a week unless told otherwise (`every`)."""


@dataclass(frozen=True)
class FittedModel:
    """A fitted estimator, its held-out AUC, and its scored training rows (the reference)."""

    estimator: Any
    auc: float
    reference: pa.Table
    entities: tuple[str, ...] = ()
    """The entity of each reference row, in order."""

    @property
    def metrics(self) -> dict[str, float]:
        return {"auc": self.auc}


def known_snapshots(project_dir: Path) -> list[Path]:
    """The label files written so far, oldest first (one per snapshot day)."""
    return sorted((project_dir / LABELS_FOLDER).glob("snapshot-*.parquet"))


def snapshot_day(path: Path) -> int:
    """The simulated day of a label file `snapshot-DDDD.parquet`."""
    return int(path.stem.removeprefix("snapshot-"))


def labelled_rows(
    lucid: Lucid,
    pins: Sequence[str],
    *,
    snapshots: int = TRAINING_SNAPSHOTS,
    since_day: int | None = None,
    every: int = WEEKLY,
) -> list[list[dict[str, Any]]]:
    """The point-in-time training rows of the latest `snapshots` known label files of days
    that are multiples of `every` (and `since_day` or later), one list per snapshot; refused
    while fewer than two such snapshots are known.

    A snapshot's rows are computed once per process: its features are as known at its time,
    which no later data changes."""
    files = [
        path
        for path in known_snapshots(lucid.settings.project_dir)
        if (since_day is None or snapshot_day(path) >= since_day)
        and snapshot_day(path) % every == 0
    ][-snapshots:]
    if len(files) < 2:
        raise Conflict(
            f"only {len(files)} labelled snapshot(s) are known; training needs at least two "
            f"(outcomes are known {HORIZON_DAYS} days after each snapshot)"
        )
    parts = []
    for path in files:
        key = (str(path.resolve()), tuple(pins))
        if key not in _SNAPSHOT_ROWS:
            _SNAPSHOT_ROWS[key] = lucid.features.get_training_set(path, list(pins)).to_dicts()
        parts.append(_SNAPSHOT_ROWS[key])
    return parts


_SNAPSHOT_ROWS: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}


def feature_matrix(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> np.ndarray:
    return np.array([[float(row[c] or 0.0) for c in columns] for row in rows]).reshape(
        len(rows), len(columns)
    )


def outcomes(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([int(row[LABEL]) for row in rows], dtype=np.int64)


def reference_table(
    estimator: Any, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> pa.Table:
    """Feature columns, the estimator's score and the known label: a monitoring reference."""
    features = feature_matrix(rows, columns)
    return pa.table(
        {
            **{c: pa.array(features[:, i], pa.float64()) for i, c in enumerate(columns)},
            "score": pa.array(estimator.predict_proba(features)[:, 1], pa.float64()),
            "label": pa.array(outcomes(rows), pa.int64()),
        }
    )


def fit_churn_model(
    lucid: Lucid,
    pins: Sequence[str],
    *,
    snapshots: int = TRAINING_SNAPSHOTS,
    since_day: int | None = None,
    every: int = WEEKLY,
) -> FittedModel:
    """Fit on the latest `snapshots` known label files of `lucid`'s project (`labelled_rows`),
    the last one held out for the AUC."""
    columns = [pin.split("@")[0] for pin in pins]
    parts = labelled_rows(lucid, pins, snapshots=snapshots, since_day=since_day, every=every)
    train_rows = [row for part in parts[:-1] for row in part]
    test_rows = parts[-1]
    estimator = make_pipeline(
        FunctionTransformer(np.log1p),
        StandardScaler(),
        LogisticRegression(max_iter=1_000),
    )
    estimator.fit(feature_matrix(train_rows, columns), outcomes(train_rows))
    held_out = outcomes(test_rows)
    auc = (
        float(
            roc_auc_score(
                held_out, estimator.predict_proba(feature_matrix(test_rows, columns))[:, 1]
            )
        )
        if 0 < held_out.sum() < len(held_out)
        else 0.5
    )
    rows = [row for part in parts for row in part]
    return FittedModel(
        estimator,
        round(auc, 4),
        reference_table(estimator, rows, columns),
        tuple(str(row["entity_id"]) for row in rows),
    )


def held_out_labels(project_dir: Path) -> pa.Table:
    """The latest known snapshot's labels (entity_id, event_timestamp, label): the snapshot a
    fit holds out, for a back-test of the version against production."""
    latest = pq.read_table(known_snapshots(project_dir)[-1])
    return pa.table(
        {
            "entity_id": latest.column("entity_id"),
            "event_timestamp": latest.column("timestamp"),
            "label": latest.column(LABEL),
        }
    )


def write_reference(project_dir: Path, model: str, version: int, reference: pa.Table) -> Path:
    """The reference rows of a version as Parquet, for its monitoring profile."""
    path = project_dir / "references" / f"{model}-v{version}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(reference, path)
    return path


def retrain(request: RetrainingRequest) -> tuple[Any, dict[str, float]]:
    """The churn model's training pipeline (`training_pipelines` entry point): refit the
    version's pinned features on the latest known snapshots of the requesting project."""
    from lucid.bootstrap import open_project

    with open_project(request.project_dir) as lucid:
        pins = lucid.registry.get_version(request.model, int(request.version)).features
        fitted = fit_churn_model(lucid, pins)
    return fitted.estimator, fitted.metrics
