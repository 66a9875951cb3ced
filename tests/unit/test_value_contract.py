"""The value contract's pure rules: BusinessImpact, guardrails, evidence and the promotion gate."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lucid.contracts.value import (
    BusinessImpact,
    Direction,
    Evidence,
    Guardrail,
    GuardrailBound,
    Override,
    Stage,
    Verdict,
    evaluate,
    judge_evidence,
    parse_period,
    pearson,
    promotion_gate,
    validate_pinned_feature,
)
from lucid.errors import Conflict, Forbidden, InvalidInput
from tests.experiment_counts import two_proportion_evidence

finite_numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def retention(**changes: Any) -> BusinessImpact:
    fields: dict[str, Any] = {
        "metric": "retention_rate",
        "direction": "higher",
        "baseline": 0.80,
        "target": 0.82,
        "measurement_period": "30d",
        "rollback_threshold": 0.78,
        "rationale": "keep more customers",
        "guardrails": (Guardrail("compute_cost_per_day", GuardrailBound.CAP, 495),),
    }
    fields.update(changes)
    return BusinessImpact(**fields)


def false_positives(**changes: Any) -> BusinessImpact:
    fields: dict[str, Any] = {
        "metric": "false_positive_rate",
        "direction": "lower",
        "baseline": 0.20,
        "target": 0.15,
        "measurement_period": "4w",
        "rollback_threshold": 0.25,
        "rationale": "fewer wrongly flagged customers",
    }
    fields.update(changes)
    return BusinessImpact(**fields)


# -- BusinessImpact ------------------------------------------------------------------------------


def test_higher_is_better_targets_and_rollback() -> None:
    impact = retention()
    assert impact.target_achieved(0.82) and impact.target_achieved(0.9)
    assert not impact.target_achieved(0.819)
    assert impact.should_rollback(0.779) and not impact.should_rollback(0.78)
    assert impact.period.days == 30


def test_lower_is_better_targets_and_rollback() -> None:
    impact = false_positives()
    assert impact.target_achieved(0.15) and impact.target_achieved(0.1)
    assert not impact.target_achieved(0.151)
    assert impact.should_rollback(0.2501) and not impact.should_rollback(0.25)
    assert impact.period.days == 28


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target": 0.80}, "target"),
        ({"target": 0.79}, "target"),
        ({"rollback_threshold": 0.80}, "rollback_threshold"),
        ({"rollback_threshold": 0.81}, "rollback_threshold"),
        ({"direction": "sideways"}, "direction"),
        ({"measurement_period": "monthly"}, "measurement_period"),
        ({"measurement_period": "0d"}, "measurement_period"),
        ({"rationale": "  "}, "rationale"),
        ({"metric": ""}, "metric"),
        ({"alpha": 0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"baseline": math.nan}, "baseline"),
        ({"target": math.inf}, "target"),
        ({"rollback_threshold": -math.inf}, "rollback_threshold"),
        ({"value_per_unit": math.nan}, "value_per_unit"),
        ({"baseline": "0.8"}, "baseline"),
        (
            {"guardrails": (Guardrail("retention_rate", GuardrailBound.CAP, 1),)},
            "guardrails",
        ),
        (
            {
                "guardrails": (
                    Guardrail("cost", GuardrailBound.CAP, 1),
                    Guardrail("cost", GuardrailBound.FLOOR, 0),
                )
            },
            "guardrails",
        ),
    ],
)
def test_invalid_higher_contracts_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        retention(**changes)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target": 0.20}, "target"),
        ({"target": 0.21}, "target"),
        ({"rollback_threshold": 0.20}, "rollback_threshold"),
        ({"rollback_threshold": 0.19}, "rollback_threshold"),
    ],
)
def test_invalid_lower_contracts_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        false_positives(**changes)
    assert refused.value.field == field
    assert "lower is better" in str(refused.value)


@given(
    direction=st.sampled_from(["higher", "lower"]),
    baseline=finite_numbers,
    target=finite_numbers,
    rollback=finite_numbers,
)
def test_a_contract_exists_exactly_when_the_order_holds(
    direction: str, baseline: float, target: float, rollback: float
) -> None:
    ordered = (
        rollback < baseline < target if direction == "higher" else target < baseline < rollback
    )
    try:
        BusinessImpact("m", direction, baseline, target, "7d", rollback, "why")  # type: ignore[arg-type]
    except InvalidInput:
        assert not ordered
    else:
        assert ordered


@given(
    direction=st.sampled_from(list(Direction)),
    values=st.lists(finite_numbers, min_size=3, max_size=3, unique=True),
    observed=finite_numbers,
)
def test_target_and_rollback_never_hold_together(
    direction: Direction, values: list[float], observed: float
) -> None:
    low, mid, high = sorted(values)
    if direction is Direction.HIGHER:
        impact = BusinessImpact("m", direction, mid, high, "1d", low, "why")
    else:
        impact = BusinessImpact("m", direction, mid, low, "1d", high, "why")
    achieved, rollback = impact.target_achieved(observed), impact.should_rollback(observed)
    assert not (achieved and rollback)
    verdict = evaluate(impact, observed).verdict
    expected = (
        Verdict.ROLLBACK_DUE
        if rollback
        else Verdict.TARGET_ACHIEVED
        if achieved
        else Verdict.WITHIN_BAND
    )
    assert verdict is expected


@given(impact=st.sampled_from([retention(value_per_unit=1000.0), false_positives()]))
def test_contracts_round_trip_through_their_mapping(impact: BusinessImpact) -> None:
    assert BusinessImpact.from_mapping(impact.to_dict()) == impact


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not a mapping", "contract"),
        ({"metric": "x"}, "direction"),
        ({**retention().to_dict(), "colour": "blue"}, "contract.colour"),
        ({**retention().to_dict(), "guardrails": [{"metric": "cost"}]}, "guardrails.cost"),
        (
            {**retention().to_dict(), "guardrails": [{"metric": "cost", "cap": 1, "floor": 0}]},
            "guardrails.cost",
        ),
        ({**retention().to_dict(), "guardrails": [{"metric": "cost", "cap": "a lot"}]}, None),
        ({**retention().to_dict(), "guardrails": "cost<=1"}, "guardrails"),
        ({**retention().to_dict(), "baseline": True}, "baseline"),
    ],
)
def test_contract_mappings_are_refused_with_a_sentence(raw: object, field: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        BusinessImpact.from_mapping(raw)
    if field is not None:
        assert refused.value.field == field


def test_guardrails_cap_and_floor() -> None:
    cap = Guardrail("cost", GuardrailBound.CAP, 495)
    floor = Guardrail("precision", GuardrailBound.FLOOR, 0.6)
    assert cap.holds(495) and not cap.holds(495.01)
    assert floor.holds(0.6) and not floor.holds(0.59)
    assert cap.describe() == "cost ≤ 495" and floor.describe() == "precision ≥ 0.6"
    with pytest.raises(InvalidInput):
        Guardrail("cost", GuardrailBound.CAP, math.nan)


def test_periods_and_pins() -> None:
    assert parse_period("12h").total_seconds() == 12 * 3600
    assert validate_pinned_feature("customer_activity_30d@2") == "customer_activity_30d@2"
    assert validate_pinned_feature("tenure@1.2.0") == "tenure@1.2.0"
    for bad in ("customer_activity_30d", "Activity@1", "activity@v1", "a@1@2", "a b@1"):
        with pytest.raises(InvalidInput, match="name@version"):
            validate_pinned_feature(bad)


# -- Evidence and the gate -----------------------------------------------------------------------


def test_evidence_from_counts_matches_scipy_and_passes() -> None:
    impact = retention()
    evidence = two_proportion_evidence(impact, "churn@2", (800, 850), (1000, 1000))
    assert evidence.effect == pytest.approx(0.05)
    assert evidence.p_value < 0.01
    assert judge_evidence(impact, [evidence], "churn@2", "churn@1") is None


def test_evidence_records_refuse_inconsistent_numbers() -> None:
    good = two_proportion_evidence(retention(), "churn@2", (800, 850), (1000, 1000)).to_dict()
    for change in (
        {"effect": 0.5},
        {"p_value": 1.5},
        {"alpha": 0},
        {"confidence": 1},
        {"control": {"name": "a", "sample_size": 0, "value": 0.5}},
        {"treatment": {"name": "b", "sample_size": 2.5, "value": 0.5}},
        {"source": ""},
        {"guardrail_values": {"cost": math.inf}},
    ):
        with pytest.raises(InvalidInput):
            Evidence.from_mapping({**good, **change})
    assert Evidence.from_mapping(good).to_dict() == good


@pytest.mark.parametrize(
    ("successes", "sizes", "guardrails", "label", "problem"),
    [
        ((800, 815), (1000, 1000), None, "churn@2", "not significant"),
        ((48, 50), (60, 60), None, "churn@2", "not significant"),
        ((800, 850), (1000, 1000), {"compute_cost_per_day": 520}, "churn@2", "is broken"),
        ((800, 850), (1000, 1000), {}, "churn@2", "no measured value"),
        ((800, 850), (1000, 1000), None, "churn@3", "treatment arm is churn@2"),
    ],
)
def test_evidence_that_does_not_prove_the_contract(
    successes: tuple[int, int],
    sizes: tuple[int, int],
    guardrails: dict[str, float] | None,
    label: str,
    problem: str,
) -> None:
    impact = retention()
    evidence = two_proportion_evidence(impact, "churn@2", successes, sizes, guardrails)
    found = judge_evidence(impact, [evidence], label, "churn@1")
    assert found is not None and problem in found


def test_evidence_for_another_metric_or_looser_alpha_is_refused() -> None:
    impact = retention()
    other = two_proportion_evidence(false_positives(), "churn@2", (800, 850), (1000, 1000))
    assert "measures false_positive_rate" in str(
        judge_evidence(impact, [other], "churn@2", "churn@1")
    )
    loose = two_proportion_evidence(impact, "churn@2", (800, 850), (1000, 1000), alpha=0.1)
    assert "looser" in str(judge_evidence(impact, [loose], "churn@2", "churn@1"))


def test_lower_is_better_evidence_needs_a_negative_effect() -> None:
    impact = false_positives()
    better = two_proportion_evidence(impact, "fraud@2", (400, 280), (2000, 2000), {})
    assert judge_evidence(impact, [better], "fraud@2", "churn@1") is None
    worse = two_proportion_evidence(impact, "fraud@2", (400, 460), (2000, 2000), {})
    assert "does not lie wholly" in str(judge_evidence(impact, [worse], "fraud@2", "churn@1"))


def gate(**changes: Any) -> Any:
    impact = retention()
    fields: dict[str, Any] = {
        "version_label": "churn@2",
        "current": Stage.CHALLENGER,
        "wanted": Stage.PRODUCTION,
        "impact": impact,
        "evidence": [two_proportion_evidence(impact, "churn@2", (800, 850), (1000, 1000))],
        "production_label": "churn@1",
        "frozen_reason": None,
        "override": None,
        "approvers": ["bea"],
        "registered_by": "ana",
    }
    fields.update(changes)
    return promotion_gate(**fields)


def test_the_gate_accepts_valid_evidence() -> None:
    decision = gate()
    assert decision.basis == "evidence" and "exp-42" in decision.summary
    assert "external evidence" in decision.summary and len(decision.evidence_digests) == 1


@pytest.mark.parametrize(
    ("changes", "error", "sentence"),
    [
        ({"impact": None}, Conflict, "no business-impact contract"),
        ({"evidence": []}, Conflict, "has no business evidence"),
        ({"frozen_reason": "PSI 0.27"}, Conflict, "frozen"),
        ({"current": Stage.CANDIDATE}, Conflict, "may move only to"),
        ({"current": Stage.ARCHIVED}, Conflict, "may move only to no other stage"),
        ({"current": Stage.PRODUCTION}, Conflict, "already production"),
        (
            {"evidence": [], "override": Override("carl", "business asked")},
            Forbidden,
            "not an approver",
        ),
        (
            {"evidence": [], "override": Override("ana", "mine"), "approvers": ["ana"]},
            Forbidden,
            "four-eyes",
        ),
        (
            {"frozen_reason": "drill", "override": Override("bea", "urgent")},
            Conflict,
            "frozen",
        ),
    ],
)
def test_the_gate_refuses(changes: dict[str, Any], error: type[Exception], sentence: str) -> None:
    with pytest.raises(error, match=sentence):
        gate(**changes)


def test_an_override_needs_a_rationale_and_keeps_what_was_missing() -> None:
    with pytest.raises(InvalidInput, match=r"override\.rationale"):
        Override("bea", " ")
    decision = gate(evidence=[], override=Override("bea", "regulator deadline"))
    assert decision.basis == "override"
    assert decision.evidence_problem == (
        "business superiority on the contract's metric is required but churn@2 has no "
        "business evidence on retention_rate"
    )


def test_challenger_promotion_needs_no_evidence_but_a_contract() -> None:
    assert gate(current=Stage.CANDIDATE, wanted=Stage.CHALLENGER, evidence=[]).basis == "stage"


def test_pearson_agrees_with_scipy() -> None:
    from scipy.stats import pearsonr

    xs, ys = [0.01, 0.03, -0.02, 0.05], [0.002, 0.01, -0.004, 0.012]
    assert pearson(xs, ys) == pytest.approx(float(pearsonr(xs, ys).statistic))
    assert pearson([1, 2], [3, 4]) is None
    assert pearson([1, 1, 1], [1, 2, 3]) is None
