"""The SQL of model performance: classification counts, label-free accuracy and the AUC."""

from __future__ import annotations

from lucid.engines.dialects import Dialect


def classification_counts(
    d: Dialect, table: str, label: str, score: str, cutoff: float, where: str | None = None
) -> str:
    """Rows with a usable label and score: count, true/false positives and negatives at
    `cutoff` (predicted positive when score >= cutoff), and the CBPE expected accuracy sum.

    The label is positive when it equals 1 (booleans and 0/1 integers both work).
    """
    y = f"CAST({d.quote(label)} AS DOUBLE)"
    s = d.as_double(score)
    c = d.double(cutoff)
    usable = f"{d.quote(label)} IS NOT NULL AND {d.usable(score)}"
    return (
        f"SELECT count(*), "
        f"count(*) FILTER (WHERE {s} >= {c} AND {y} = 1), "
        f"count(*) FILTER (WHERE {s} >= {c} AND {y} <> 1), "
        f"count(*) FILTER (WHERE {s} < {c} AND {y} = 1), "
        f"count(*) FILTER (WHERE {s} < {c} AND {y} <> 1) "
        f"FROM {d.quote(table)}{d.where(usable, where)}"
    )


def expected_accuracy(
    d: Dialect, table: str, score: str, cutoff: float, where: str | None = None
) -> str:
    """Label-free (CBPE) accuracy: the mean probability that each decision is right, taking
    the score as a calibrated P(label = 1). Also returns the usable row count."""
    s = d.as_double(score)
    return (
        f"SELECT count(*), avg(CASE WHEN {s} >= {d.double(cutoff)} THEN {s} ELSE 1 - {s} END) "
        f"FROM {d.quote(table)}{d.where(d.usable(score), where)}"
    )


def auc(d: Dialect, table: str, score: str, label: str | None, where: str | None = None) -> str:
    """Area under the ROC curve by the Mann-Whitney sum, ties counted one half.

    With `label` the weights are the labels (realised AUC); without, each row weighs as
    positive by its score and as negative by 1 - score (CBPE's label-free estimate).
    """
    s = d.as_double(score)
    if label is None:
        positive, negative = s, f"1 - {s}"
        usable = d.usable(score)
    else:
        y = f"CAST({d.quote(label)} AS DOUBLE)"
        positive = f"CASE WHEN {y} = 1 THEN 1.0 ELSE 0.0 END"
        negative = f"CASE WHEN {y} = 1 THEN 0.0 ELSE 1.0 END"
        usable = f"{d.quote(label)} IS NOT NULL AND {d.usable(score)}"
    return f"""
WITH by_score AS (
    SELECT {s} AS s, sum({positive}) AS pos, sum({negative}) AS neg
    FROM {d.quote(table)}{d.where(usable, where)} GROUP BY s
), ranked AS (
    SELECT pos, neg, coalesce(sum(neg) OVER (
        ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0.0) AS below
    FROM by_score
)
SELECT sum(pos * (below + 0.5 * neg)), sum(pos), sum(neg) FROM ranked
"""
