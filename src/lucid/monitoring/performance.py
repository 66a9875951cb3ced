"""Model performance for the validity contract: realised once labels arrive, estimated before.

Binary classifiers only: `score` is the model's calibrated P(label = 1) in [0, 1]; a row is
predicted positive when score >= `cutoff` (0.5 by default); the label is positive when it
equals 1. Metrics are fractions in [0, 1]; a *drop* is reference - current in absolute
fraction units (0.03 = three percentage points), so a positive drop is a loss.

The label-free estimate follows NannyML's CBPE: with calibrated scores, each decision is
right with probability score (predicted positive) or 1 - score (predicted negative), so the
expected accuracy is the mean of those; the expected AUC weighs every row as positive by its
score and as negative by 1 - score in the Mann-Whitney sum. Both are only as good as the
calibration — an early warning, superseded by the realised metrics when labels arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.profiles import PerformanceProfile
from lucid.errors import InvalidInput
from lucid.ports import ComputeEngine


@dataclass(frozen=True, slots=True)
class Classification:
    """Realised quality of a labelled window; a metric is None when undefined (no positive
    predictions for precision, no positive labels for recall, one class only for AUC)."""

    rows: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    auc: float | None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def classification(
    engine: ComputeEngine,
    table: str,
    label: str,
    score: str,
    cutoff: float = 0.5,
    where: str | None = None,
) -> Classification:
    """Accuracy, precision, recall and AUC of the rows with a label and a usable score."""
    q = engine.drift_queries
    [(rows, tp, fp, fn, tn)] = engine.query(
        q.classification_counts(table, label, score, cutoff, where)
    )
    [(auc_sum, positives, negatives)] = engine.query(q.auc(table, score, label, where))
    auc = None
    if positives and negatives:
        auc = float(auc_sum) / (float(positives) * float(negatives))
    return Classification(
        int(rows),
        _ratio(tp + tn, rows),
        _ratio(tp, tp + fp),
        _ratio(tp, tp + fn),
        auc,
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    """Label-free (CBPE) expected accuracy and AUC of a window."""

    rows: int
    accuracy: float | None
    auc: float | None


def estimate(
    engine: ComputeEngine, table: str, score: str, cutoff: float = 0.5, where: str | None = None
) -> Estimate:
    """Expected accuracy and AUC from calibrated scores alone (no labels)."""
    q = engine.drift_queries
    [(rows, accuracy)] = engine.query(q.expected_accuracy(table, score, cutoff, where))
    [(auc_sum, positives, negatives)] = engine.query(q.auc(table, score, None, where))
    auc = None
    if positives and negatives:
        auc = float(auc_sum) / (float(positives) * float(negatives))
    return Estimate(int(rows), None if accuracy is None else float(accuracy), auc)


def profile_performance(
    engine: ComputeEngine,
    table: str,
    label: str,
    score: str,
    cutoff: float = 0.5,
    where: str | None = None,
) -> PerformanceProfile:
    if not 0 < cutoff < 1:
        raise InvalidInput("cutoff", f"must be strictly between 0 and 1, not {cutoff}")
    realised = classification(engine, table, label, score, cutoff, where)
    return PerformanceProfile(
        label,
        score,
        cutoff,
        realised.rows,
        realised.accuracy,
        realised.precision,
        realised.recall,
        realised.auc,
    )


def _drop(reference: float | None, current: float | None) -> float | None:
    if reference is None or current is None:
        return None
    return reference - current


def measure_performance(
    engine: ComputeEngine,
    table: str,
    reference: PerformanceProfile,
    *,
    minimum_rows: int,
    segment: str | None = None,
    where: str | None = None,
    labelled: bool,
) -> list[Measurement]:
    """Drops versus the reference: realised ones when `labelled`, estimated ones always."""
    found: list[Measurement] = []
    enough_reference = reference.rows >= minimum_rows
    if labelled:
        realised = classification(
            engine, table, reference.label, reference.score, reference.cutoff, where
        )
        sufficient = enough_reference and realised.rows >= minimum_rows
        for metric, ref_value, cur_value in (
            ("accuracy_drop", reference.accuracy, realised.accuracy),
            ("auc_drop", reference.auc, realised.auc),
            ("precision_drop", reference.precision, realised.precision),
            ("recall_drop", reference.recall, realised.recall),
        ):
            value = _drop(ref_value, cur_value)
            found.append(
                Measurement(
                    metric,
                    value,
                    feature=reference.score,
                    segment=segment,
                    reference_rows=reference.rows,
                    current_rows=realised.rows,
                    sufficient=sufficient,
                    note=None if value is not None else "metric undefined on one side",
                    details={"reference": ref_value, "current": cur_value},
                )
            )
    guess = estimate(engine, table, reference.score, reference.cutoff, where)
    sufficient = enough_reference and guess.rows >= minimum_rows
    for metric, ref_value, cur_value in (
        ("estimated_accuracy_drop", reference.accuracy, guess.accuracy),
        ("estimated_auc_drop", reference.auc, guess.auc),
    ):
        value = _drop(ref_value, cur_value)
        found.append(
            Measurement(
                metric,
                value,
                feature=reference.score,
                segment=segment,
                reference_rows=reference.rows,
                current_rows=guess.rows,
                sufficient=sufficient,
                note="label-free CBPE estimate from calibrated scores",
                details={"reference": ref_value, "estimated_current": cur_value},
            )
        )
    return found


def business_metric_drop(
    baseline: float, current: float, *, higher_is_better: bool = True
) -> Measurement:
    """Relative drop of a business metric: (baseline - current)/|baseline| when higher is
    better, (current - baseline)/|baseline| when lower is better; a positive value is a loss."""
    for name, value in (("baseline", baseline), ("current", current)):
        if not math.isfinite(value):
            raise InvalidInput(name, f"must be a finite number, not {value}")
    if baseline == 0:
        raise InvalidInput("baseline", "must not be 0: a relative drop needs a non-zero baseline")
    loss = (baseline - current) if higher_is_better else (current - baseline)
    return Measurement(
        "business_metric_drop",
        loss / abs(baseline),
        details={"baseline": baseline, "current": current},
    )
