"""Realised and label-free model performance by SQL, against hand computations and scipy."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.monitoring.performance import (
    business_metric_drop,
    classification,
    estimate,
    measure_performance,
    profile_performance,
)


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine() as duck:
        yield duck


def scored(rng: np.random.Generator, rows: int, skill: float) -> pd.DataFrame:
    """Calibrated scores: the label is drawn from the score itself."""
    score = np.clip(rng.beta(2, 2, rows) * skill + (1 - skill) * 0.5, 0, 1).round(3)
    return pd.DataFrame({"score": score, "churned": (rng.random(rows) < score).astype(int)})


def test_classification_metrics_match_hand_computation_and_mann_whitney(
    engine: DuckDBEngine,
) -> None:
    rng = np.random.default_rng(4)
    frame = scored(rng, 3000, 1.0)
    engine.register("window", frame)
    found = classification(engine, "window", "churned", "score")
    predicted = frame.score >= 0.5
    truth = frame.churned == 1
    tp = int((predicted & truth).sum())
    assert found.rows == 3000
    assert found.accuracy == pytest.approx(float((predicted == truth).mean()))
    assert found.precision == pytest.approx(tp / int(predicted.sum()))
    assert found.recall == pytest.approx(tp / int(truth.sum()))
    u = stats.mannwhitneyu(frame.score[truth], frame.score[~truth]).statistic  # ties count ½
    assert found.auc == pytest.approx(u / (truth.sum() * (~truth).sum()))


def test_undefined_metrics_are_none_not_zero(engine: DuckDBEngine) -> None:
    engine.register("window", pd.DataFrame({"score": [0.1, 0.2, 0.3], "churned": [0, 0, 0]}))
    found = classification(engine, "window", "churned", "score")
    assert found.accuracy == 1.0
    assert found.precision is None  # nothing predicted positive
    assert found.recall is None  # no positive label
    assert found.auc is None  # one class only


def test_rows_without_label_or_with_a_broken_score_are_left_out(engine: DuckDBEngine) -> None:
    frame = pd.DataFrame(
        {"score": [0.9, 0.1, np.nan, 0.8, np.inf], "churned": [1, 0, 1, None, 1]}
    ).astype({"churned": "Int64"})
    engine.register("window", frame)
    found = classification(engine, "window", "churned", "score")
    assert (found.rows, found.accuracy, found.auc) == (2, 1.0, 1.0)


def test_the_label_free_estimate_tracks_realised_performance_on_calibrated_scores(
    engine: DuckDBEngine,
) -> None:
    rng = np.random.default_rng(12)
    for skill in (1.0, 0.6):
        frame = scored(rng, 20_000, skill)
        engine.register("window", frame)
        realised = classification(engine, "window", "churned", "score")
        guess = estimate(engine, "window", "score")
        assert guess.accuracy == pytest.approx(realised.accuracy, abs=0.01)
        assert guess.auc == pytest.approx(realised.auc, abs=0.01)
        by_hand = np.where(frame.score >= 0.5, frame.score, 1 - frame.score).mean()
        assert guess.accuracy == pytest.approx(by_hand)


def test_drops_versus_the_reference_catch_a_degraded_model(engine: DuckDBEngine) -> None:
    rng = np.random.default_rng(21)
    engine.register("reference", scored(rng, 5000, 1.0))
    reference = profile_performance(engine, "reference", "churned", "score")
    degraded = scored(rng, 5000, 1.0)
    degraded["churned"] = np.where(rng.random(5000) < 0.2, 1 - degraded.churned, degraded.churned)
    engine.register("current", degraded)
    found = {
        m.metric: m
        for m in measure_performance(engine, "current", reference, minimum_rows=500, labelled=True)
    }
    assert set(found) == {
        "accuracy_drop",
        "auc_drop",
        "precision_drop",
        "recall_drop",
        "estimated_accuracy_drop",
        "estimated_auc_drop",
    }
    assert found["accuracy_drop"].value is not None and found["accuracy_drop"].value > 0.05
    assert found["auc_drop"].value is not None and found["auc_drop"].value > 0.05
    # the scores did not move, so the label-free estimate sees nothing: its known blind spot
    assert abs(found["estimated_accuracy_drop"].value or 1.0) < 0.02
    assert all(m.sufficient for m in found.values())


def test_a_reference_cutoff_outside_zero_one_is_refused(engine: DuckDBEngine) -> None:
    engine.register("reference", pd.DataFrame({"score": [0.2], "churned": [0]}))
    with pytest.raises(InvalidInput, match=r"^cutoff: must be strictly between 0 and 1"):
        profile_performance(engine, "reference", "churned", "score", cutoff=1.0)


def test_business_metric_drop_is_relative_and_sign_corrected() -> None:
    assert business_metric_drop(0.80, 0.78).value == pytest.approx(0.025)
    assert business_metric_drop(0.80, 0.82).value == pytest.approx(-0.025)
    # lower is better (e.g. a false-positive rate): going up is the loss
    assert business_metric_drop(0.10, 0.12, higher_is_better=False).value == pytest.approx(0.2)
    with pytest.raises(InvalidInput, match=r"^baseline: must not be 0"):
        business_metric_drop(0.0, 0.1)
    with pytest.raises(InvalidInput, match=r"^current: must be a finite number"):
        business_metric_drop(1.0, float("nan"))
