"""Deployments as decisions: hypotheses, criteria, checkpoints and their verdicts (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lucid.contracts.deployments import (
    CheckpointOutcome,
    Hypothesis,
    SuccessCriterion,
    checkpoint_days,
    checkpoint_times,
    evaluate_checkpoint,
)
from lucid.errors import InvalidInput

RETENTION = SuccessCriterion("retention_rate", 0.80, 0.82, "higher")
FALSE_POSITIVES = SuccessCriterion("false_positive_rate", 0.10, 0.07, "lower")


def test_checkpoints_default_to_30_90_180_days_after_deployment() -> None:
    deployed = datetime(2026, 1, 1, tzinfo=UTC)
    days = checkpoint_days(None)
    assert days == (30, 90, 180)
    assert checkpoint_times(deployed, days)[0] == deployed + timedelta(days=30)


@pytest.mark.parametrize(
    ("latest", "outcome", "lesson"),
    [
        ({"retention_rate": 0.83, "false_positive_rate": 0.06}, CheckpointOutcome.HELD, False),
        ({"retention_rate": 0.82, "false_positive_rate": 0.07}, CheckpointOutcome.HELD, False),
        ({"retention_rate": 0.81, "false_positive_rate": 0.06}, CheckpointOutcome.FAILED, True),
        ({"retention_rate": 0.83, "false_positive_rate": 0.08}, CheckpointOutcome.FAILED, True),
        ({"retention_rate": 0.83}, CheckpointOutcome.INCONCLUSIVE, False),
        ({}, CheckpointOutcome.INCONCLUSIVE, False),
    ],
)
def test_a_checkpoint_holds_only_when_every_criterion_is_met(
    latest: dict[str, float], outcome: CheckpointOutcome, lesson: bool
) -> None:
    verdict = evaluate_checkpoint([RETENTION, FALSE_POSITIVES], latest)
    assert verdict.outcome is outcome and verdict.lesson_requested is lesson
    assert [c["name"] for c in verdict.to_dict()["criteria"]] == [
        "retention_rate",
        "false_positive_rate",
    ]


@pytest.mark.parametrize(
    ("build", "sentence"),
    [
        (lambda: Hypothesis(" "), "hypotheses.description"),
        (lambda: Hypothesis("x", float("inf")), "hypotheses.expected_impact"),
        (lambda: Hypothesis.from_mapping({"description": "x", "why": 1}), "unknown key"),
        (lambda: SuccessCriterion("r", 0.8, 0.7, "higher"), "success_criteria.r.target"),
        (lambda: SuccessCriterion("r", 0.8, 0.9, "sideways"), "success_criteria.r.direction"),
        (lambda: SuccessCriterion.from_mapping({"name": "r", "baseline": "a"}), "baseline"),
        (lambda: checkpoint_days([]), "checkpoints: a deployment needs at least one"),
        (lambda: checkpoint_days([30, 30]), "distinct and increasing"),
        (lambda: checkpoint_days([1.5]), "whole number of days"),
    ],
)
def test_bad_decisions_are_one_sentence(build: object, sentence: str) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        build()  # type: ignore[operator]
