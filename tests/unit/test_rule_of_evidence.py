"""The gate's rule of evidence: each clause of a contract's `evidence_rule` against a version's
evidence records (superiority and non-inferiority, either direction, business and predictive,
the control arm, alpha, missing kinds, origins)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lucid.contracts.value import (
    NO_MODEL,
    Arm,
    BusinessImpact,
    Comparison,
    Evidence,
    EvidenceClause,
    EvidenceKind,
    Guardrail,
    GuardrailBound,
    Origin,
    Stage,
    judge_evidence,
    promotion_gate,
)
from lucid.errors import Conflict

TREATMENT, CONTROL = "churn@2", "churn@1"


def contract(direction: str, *rule: EvidenceClause, guarded: bool = False) -> BusinessImpact:
    """Higher: retention 0.80 → 0.82, rollback 0.78; lower: churn 0.20 → 0.15, rollback 0.25."""
    higher = direction == "higher"
    return BusinessImpact(
        metric="retention_rate" if higher else "churn_rate",
        direction=direction,
        baseline=0.80 if higher else 0.20,
        target=0.82 if higher else 0.15,
        measurement_period="30d",
        rollback_threshold=0.78 if higher else 0.25,
        rationale="keep customers",
        guardrails=(Guardrail("cost", GuardrailBound.CAP, 495),) if guarded else (),
        evidence_rule=rule,
    )


def record(
    kind: EvidenceKind,
    metric: str,
    effect: float,
    low: float,
    high: float,
    p: float,
    /,
    **changes: Any,
) -> Evidence:
    fields: dict[str, Any] = {
        "metric": metric,
        "control": Arm(CONTROL, 5000, 0.5),
        "treatment": Arm(TREATMENT, 5000, 0.5 + effect),
        "effect": effect,
        "ci_low": low,
        "ci_high": high,
        "confidence": 0.95,
        "p_value": p,
        "alpha": 0.05,
        "source": "exp-7",
        "kind": kind,
        "guardrail_values": {"cost": 410.0},
    }
    fields.update(changes)
    return Evidence(**fields)


def clause(kind: EvidenceKind, comparison: Comparison, metric: str | None) -> EvidenceClause:
    margin = (
        0.01 if kind is EvidenceKind.PREDICTIVE and comparison.value == "non_inferiority" else None
    )
    return EvidenceClause(kind, comparison, metric, margin)


def setting(kind: EvidenceKind, direction: str) -> tuple[str | None, str, float]:
    """(the clause's metric, the record's metric, the non-inferiority margin) of a setting."""
    if kind is EvidenceKind.BUSINESS:
        return (
            None,
            "retention_rate" if direction == "higher" else "churn_rate",
            (0.02 if direction == "higher" else 0.05),
        )
    return ("auc", "auc", 0.01) if direction == "higher" else ("log_loss", "log_loss", 0.01)


# (outcome of superiority, outcome of non-inferiority) for an effect in units of the margin,
# signed better-positive: (effect, low, high, p).
CASES = [
    ("clearly better", (1.0, 0.5, 1.5, 0.001), None, None),
    ("clearly worse", (-1.0, -1.5, -0.5, 0.001), "does not lie wholly", "worse than the margin"),
    ("equal, narrow", (0.0, -0.5, 0.5, 0.9), "not significant", None),
    ("equal, wide", (0.0, -1.5, 1.5, 0.9), "not significant", "worse than the margin"),
    ("better, p just at alpha", (1.0, 0.01, 2.0, 0.05), None, None),
    ("significant the wrong way round", (0.4, 0.1, 0.7, 0.2), "not significant", None),
]


@pytest.mark.parametrize("kind", list(EvidenceKind))
@pytest.mark.parametrize("direction", ["higher", "lower"])
@pytest.mark.parametrize("comparison", list(Comparison))
@pytest.mark.parametrize(("name", "numbers", "superiority", "non_inferiority"), CASES)
def test_each_clause_in_each_direction(
    kind: EvidenceKind,
    direction: str,
    comparison: Comparison,
    name: str,
    numbers: tuple[float, float, float, float],
    superiority: str | None,
    non_inferiority: str | None,
) -> None:
    clause_metric, metric, margin = setting(kind, direction)
    sign = 1.0 if direction == "higher" else -1.0
    effect, low, high, p = numbers
    bounds = sorted((sign * low * margin, sign * high * margin))
    evidence = record(kind, metric, sign * effect * margin, bounds[0], bounds[1], p)
    impact = contract(direction, clause(kind, comparison, clause_metric))
    expected = superiority if comparison is Comparison.SUPERIORITY else non_inferiority
    found = judge_evidence(impact, [evidence], TREATMENT, CONTROL)
    if expected is None:
        assert found is None, name
    else:
        assert found is not None and expected in found, name
        assert impact.evidence_rule[0].describe() in found and "exp-7 (external)" in found


def test_non_inferiority_stops_exactly_at_the_margin() -> None:
    impact = contract("higher", EvidenceClause(EvidenceKind.BUSINESS, Comparison.NON_INFERIORITY))
    at = record(EvidenceKind.BUSINESS, "retention_rate", 0.0, -0.02, 0.02, 0.9)
    past = record(EvidenceKind.BUSINESS, "retention_rate", 0.0, -0.0201, 0.02, 0.9)
    assert judge_evidence(impact, [at], TREATMENT, CONTROL) is None
    found = judge_evidence(impact, [past], TREATMENT, CONTROL)
    assert found is not None and "reaches -0.0201, worse than the margin -0.02" in found


def business(**changes: Any) -> Evidence:
    return record(EvidenceKind.BUSINESS, "retention_rate", 0.03, 0.01, 0.05, 0.001, **changes)


def auc(**changes: Any) -> Evidence:
    return record(EvidenceKind.PREDICTIVE, "auc", 0.02, 0.01, 0.03, 0.001, **changes)


SUPERIOR = EvidenceClause(EvidenceKind.BUSINESS, Comparison.SUPERIORITY)
SHADOW = EvidenceClause(EvidenceKind.PREDICTIVE, Comparison.SUPERIORITY, "auc")
COHORT = EvidenceClause(EvidenceKind.BUSINESS, Comparison.NON_INFERIORITY)


@pytest.mark.parametrize(
    ("evidence", "production", "sentence"),
    [
        (
            [business(control=Arm("churn@0", 5000, 0.5))],
            CONTROL,
            "control arm is churn@0, not churn@1",
        ),
        ([business(treatment=Arm("churn@3", 5000, 0.53))], CONTROL, "treatment arm is churn@3"),
        (
            [business(alpha=0.1, confidence=0.9)],
            CONTROL,
            "alpha 0.1 is looser than the contract's 0.05",
        ),
        ([business(confidence=0.8)], CONTROL, "confidence 0.8 is below 1 - alpha = 0.95"),
        ([business(direction="lower")], CONTROL, "it says lower retention_rate is better"),
        ([auc()], CONTROL, "churn@2 has no business evidence on retention_rate"),
        ([business(metric="churn_rate")], CONTROL, "its business evidence measures churn_rate"),
        ([], CONTROL, "is required but churn@2 has no business evidence"),
        ([business()], None, "a business test needs a production version to compare against"),
    ],
)
def test_business_superiority_refuses(
    evidence: list[Evidence], production: str | None, sentence: str
) -> None:
    found = judge_evidence(contract("higher", SUPERIOR), evidence, TREATMENT, production)
    assert found is not None and sentence in found


def test_predictive_evidence_without_production_compares_with_no_model() -> None:
    impact = contract("higher", SHADOW)
    alone = auc(control=Arm(NO_MODEL, 5000, 0.5))
    assert judge_evidence(impact, [alone], TREATMENT, None) is None
    found = judge_evidence(impact, [auc()], TREATMENT, None)
    assert found is not None and "control arm is churn@1, not no model (none serves)" in found
    found = judge_evidence(impact, [alone], TREATMENT, CONTROL)
    assert found is not None and "control arm is no model, not churn@1" in found


def test_a_rule_of_two_clauses_needs_both_kinds() -> None:
    impact = contract("higher", SHADOW, COHORT)
    assert judge_evidence(impact, [auc(), business()], TREATMENT, CONTROL) is None
    found = judge_evidence(impact, [business()], TREATMENT, CONTROL)
    assert found is not None and "predictive superiority on auc is required" in found
    found = judge_evidence(impact, [auc()], TREATMENT, CONTROL)
    assert found is not None and "business non-inferiority" in found


def test_the_latest_record_of_a_kind_and_metric_counts() -> None:
    impact = contract("higher", SUPERIOR)
    worse = record(EvidenceKind.BUSINESS, "retention_rate", -0.03, -0.05, -0.01, 0.001)
    assert judge_evidence(impact, [worse, business()], TREATMENT, CONTROL) is None
    assert judge_evidence(impact, [business(), worse], TREATMENT, CONTROL) is not None


def test_guardrails_are_judged_on_the_business_evidence() -> None:
    guarded = contract("higher", SUPERIOR, guarded=True)
    assert judge_evidence(guarded, [business()], TREATMENT, CONTROL) is None
    broken = business(guardrail_values={"cost": 520.0})
    assert "the guardrail cost ≤ 495 is broken (520, exp-7)" in str(
        judge_evidence(guarded, [broken], TREATMENT, CONTROL)
    )
    unmeasured = business(guardrail_values={})
    assert "no measured value for the guardrail cost ≤ 495" in str(
        judge_evidence(guarded, [unmeasured], TREATMENT, CONTROL)
    )


def test_guardrails_without_a_business_clause_are_refused() -> None:
    guarded = contract("higher", SHADOW, guarded=True)
    found = judge_evidence(guarded, [auc(), business()], TREATMENT, CONTROL)
    assert found is not None and "guardrails (cost ≤ 495) need business evidence" in found
    assert judge_evidence(contract("higher", SHADOW), [auc()], TREATMENT, CONTROL) is None


def gate(impact: BusinessImpact, evidence: list[Evidence], production: str | None) -> Any:
    return promotion_gate(
        version_label=TREATMENT,
        current=Stage.CHALLENGER,
        wanted=Stage.PRODUCTION,
        impact=impact,
        evidence=evidence,
        production_label=production,
        frozen_reason=None,
        override=None,
        approvers=["bea"],
        registered_by="ana",
    )


def test_the_gate_lists_each_clause_met_with_its_numbers_origin_and_digest() -> None:
    ours = auc(origin=Origin.LUCID, produced_at="2026-12-06T17:00:00Z")
    theirs = business(effect=0.0, ci_low=-0.01, ci_high=0.01, p_value=0.9)
    decision = gate(contract("higher", SHADOW, COHORT), [ours, theirs], CONTROL)
    assert decision.basis == "evidence"
    assert decision.summary == (
        "predictive superiority on auc: effect +0.02 [0.01, 0.03], p = 0.001 "
        "(exp-7, produced by Lucid); business non-inferiority on the contract's metric: "
        "effect +0 [-0.01, 0.01], p = 0.9 (exp-7, external evidence)"
    )
    assert decision.evidence_digests == (ours.digest, theirs.digest)
    assert ours.digest != replace(ours, origin=Origin.EXTERNAL).digest


def test_the_gate_refuses_with_the_clause_the_source_and_the_numbers() -> None:
    weak = business(effect=0.01, ci_low=-0.01, ci_high=0.03, p_value=0.3)
    with pytest.raises(Conflict) as refused:
        gate(contract("higher", SUPERIOR), [weak], CONTROL)
    assert str(refused.value) == (
        "churn@2 may not enter production: business superiority on the contract's metric is "
        "not met by exp-7 (external): the effect +0.01 [-0.01, 0.03] is not significant: "
        "p = 0.3 > alpha 0.05. Attach evidence that meets the contract or have an approver "
        "override; nothing changed."
    )
