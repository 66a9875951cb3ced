"""Evidence from an experiment run outside Lucid: the schema, every problem in one answer."""

from __future__ import annotations

import math
from typing import Any

import pytest

from lucid.contracts.value import (
    Direction,
    Evidence,
    EvidenceKind,
    Origin,
    read_external_evidence,
)
from lucid.errors import InvalidInput


def external(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "kind": "business",
        "metric": "churn_rate",
        "control": {"name": "churn@1", "sample_size": 4000, "value": 0.20},
        "treatment": {"name": "churn@2", "sample_size": 4000, "value": 0.18},
        "effect": -0.02,
        "ci_low": -0.037,
        "ci_high": -0.003,
        "confidence": 0.95,
        "p_value": 0.02,
        "alpha": 0.05,
        "source": "notebook://growth/ab-2026-11",
        "test": "two-proportion z-test",
        "guardrail_values": {"cost": 410},
    }
    raw.update(changes)
    return {key: value for key, value in raw.items() if value is not None}


def refusal(raw: object) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_external_evidence(raw)
    return str(refused.value)


def test_a_valid_record_is_read_and_marked_external() -> None:
    evidence = read_external_evidence(external(design={"share": 0.5}, data={"n": [1, 2]}))
    assert evidence.origin is Origin.EXTERNAL and evidence.kind is EvidenceKind.BUSINESS
    assert evidence.produced_at is None and evidence.direction is None
    assert evidence.guardrail_values == {"cost": 410.0} and evidence.design == {"share": 0.5}
    assert Evidence.from_mapping(evidence.to_dict()) == evidence


def test_predictive_evidence_takes_its_metric_s_direction() -> None:
    evidence = read_external_evidence(external(kind="predictive", metric="log_loss"))
    assert evidence.direction is Direction.LOWER


def test_every_problem_is_named_in_one_answer() -> None:
    said = refusal(
        external(
            p_value=1.5,
            control={"name": "churn@1", "sample_size": 2.5, "value": 0.2},
            kind="x",
        )
    )
    assert said == (
        "evidence: 3 problems: evidence.kind: must be one of business, predictive, not 'x'. "
        "evidence.control.sample_size: must be a whole number, not 2.5. "
        "evidence.p_value: must be between 0 and 1, not 1.5."
    )


def test_an_empty_record_lists_every_required_field() -> None:
    said = refusal({})
    assert said.startswith("evidence: 12 problems:")
    for name in ("kind", "metric", "control", "treatment", "effect", "ci_low", "ci_high"):
        assert f"evidence.{name}: is required" in said
    for name in ("confidence", "p_value", "alpha", "source", "test"):
        assert f"evidence.{name}: is required" in said


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"metirc": "churn_rate"}, "evidence.metirc: unknown key; did you mean metric?"),
        ({"origin": "lucid"}, "evidence.origin: is set by Lucid"),
        ({"digest": "ab" * 32}, "evidence.digest: is set by Lucid"),
        ({"produced_at": "2026-12-06T17:00:00Z"}, "evidence.produced_at: is set by Lucid"),
        ({"effect": 0.5}, "evidence.effect: 0.5 must lie inside its confidence interval"),
        ({"alpha": 0}, "evidence.alpha: must be between 0 and 1 (exclusive), not 0"),
        ({"confidence": 1}, "evidence.confidence: must be between 0 and 1 (exclusive), not 1"),
        ({"ci_low": math.nan}, "evidence.ci_low: must be a finite number, not nan"),
        ({"effect": "big"}, "evidence.effect: must be a number, not 'big'"),
        ({"source": " "}, "evidence.source: must be non-empty text"),
        ({"kind": "predictive"}, "evidence.metric: must be one of auc, log_loss"),
        ({"direction": "up"}, "evidence.direction: must be one of higher, lower, not 'up'"),
        (
            {"kind": "predictive", "metric": "auc", "direction": "lower"},
            "evidence.direction: auc is higher-is-better, not lower",
        ),
        ({"design": {"at": {1, 2}}}, "evidence.design: must hold only text"),
        ({"data": [1, 2]}, "evidence.data: must be a mapping"),
        ({"guardrail_values": {"cost": "high"}}, "evidence.guardrail_values.cost: must be a"),
        ({"treatment": "churn@2"}, "evidence.treatment: must be a mapping with name"),
        (
            {"treatment": {"name": "churn@2", "smaple_size": 10, "value": 0.18}},
            "evidence.treatment.smaple_size: unknown key; did you mean sample_size?",
        ),
        (
            {"control": {"name": "churn@1", "sample_size": 0, "value": 0.2}},
            "evidence.control.sample_size: must be at least 1, not 0",
        ),
    ],
)
def test_each_rule_of_the_schema(changes: dict[str, Any], sentence: str) -> None:
    assert sentence in refusal(external(**changes))


def test_an_unknown_key_and_a_missing_one_come_together() -> None:
    raw = external()
    raw["metirc"] = raw.pop("metric")
    said = refusal(raw)
    assert said.startswith("evidence: 2 problems:")
    assert "did you mean metric?" in said and "evidence.metric: is required" in said


def test_a_record_that_is_not_a_mapping_is_refused() -> None:
    assert refusal(["kind", "business"]) == (
        "evidence: must be a mapping of fields, not ['kind', 'business']"
    )
