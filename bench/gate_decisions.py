"""Promotion decisions on simulated worlds with known truth: how often the gate lets a
challenger into production when it is truly better by the contract's target, truly equal, or
truly worse by the rollback margin, at cohorts of 500 to 20,000 entities and at the design's
own minimum sample.

Each decision is the real pure path: per-entity 0/1 outcomes drawn for both arms (share 0.5),
`ArmStats.binary` → `analyse` (fixed horizon, the contract's alpha 0.05, power 0.8) →
`evidence_of` (only when the analysis may conclude) → `promotion_gate` through `decide`, the
one adapter to the gate's signature. The contract: weekly retention, higher is better,
baseline 0.80, target 0.82 (minimum effect 0.02), rollback threshold 0.77 (margin 0.03);
rules: business superiority (`DEFAULT_RULE`) and business non-inferiority within the
rollback margin. A cohort below the design's minimum sample cannot conclude (fixed horizon):
no evidence, and the gate refuses; the column "test passes" shows what the test itself would
say at that cohort (superiority: p ≤ alpha with the better effect; non-inferiority: the
interval's worse bound within the margin), i.e. the rule the gate is to apply.

    PYTHONPATH=src python bench/gate_decisions.py [--decisions 200] [--seed 7]

Goals (issue 22): at the design's minimum sample the gate promotes a truly better challenger
≥ 80 % of the time, a truly worse one ≤ 5 %, and never without evidence.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import beta

from lucid.contracts.experiments import (
    ArmStats,
    Decision,
    Design,
    analyse,
    evidence_of,
)
from lucid.contracts.value import (
    BusinessImpact,
    Comparison,
    Direction,
    Evidence,
    EvidenceClause,
    EvidenceKind,
    Stage,
)
from lucid.contracts.value.gate import promotion_gate
from lucid.errors import Conflict

BASELINE, TARGET, ROLLBACK = 0.80, 0.82, 0.77
COHORTS = (500, 2_000, 5_000, 20_000)
PRODUCED_AT = "2026-12-06T00:00:00.000000Z"


def contract(comparison: Comparison) -> BusinessImpact:
    return BusinessImpact(
        metric="weekly_retention",
        direction=Direction.HIGHER,
        baseline=BASELINE,
        target=TARGET,
        measurement_period="7d",
        rollback_threshold=ROLLBACK,
        rationale="simulated",
        evidence_rule=(EvidenceClause(EvidenceKind.BUSINESS, comparison),),
    )


def decide(impact: BusinessImpact, evidence: Evidence | None, label: str) -> bool:
    """Whether the gate lets `label` from challenger into production on `evidence` alone,
    against production version churn@1."""
    try:
        promotion_gate(
            version_label=label,
            current=Stage.CHALLENGER,
            wanted=Stage.PRODUCTION,
            impact=impact,
            evidence=() if evidence is None else (evidence,),
            production_label="churn@1",
            frozen_reason=None,
            override=None,
            approvers=("bea",),
            registered_by="ana",
        )
    except Conflict:
        return False
    return True


def design_of(impact: BusinessImpact) -> Design:
    clause = impact.evidence_rule[0]
    inferiority = clause.comparison is Comparison.NON_INFERIORITY
    return Design(
        experiment_id="sim",
        model="churn",
        control_version=1,
        challenger_version=2,
        metric=impact.metric,
        direction=impact.direction,
        guardrails=(),
        salt="sim",
        challenger_share=0.5,
        baseline=impact.baseline,
        minimum_detectable_effect=impact.rollback_margin if inferiority else impact.minimum_effect,
        alpha=impact.alpha,
        comparison=clause.comparison,
        margin=impact.rollback_margin if inferiority else None,
    )


def interval(k: int, n: int) -> str:
    """Clopper-Pearson 95 % interval of k successes in n, in percent."""
    low = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return f"[{low:5.1%}, {high:5.1%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    truths = {
        "better by target": TARGET - BASELINE,
        "equal": 0.0,
        "worse by margin": ROLLBACK - BASELINE,
    }
    print(
        f"binary metric: baseline {BASELINE}, target {TARGET}, rollback {ROLLBACK}; "
        f"{args.decisions} decisions per row; share 0.5; alpha 0.05, power 0.8"
    )
    header = (
        f"{'rule':<16} {'truth':<17} {'cohort':>7} {'test passes':>12} "
        f"{'gate promotes':>14} {'95 % interval':>17}"
    )
    print(header)
    print("-" * len(header))
    no_evidence = decide(contract(Comparison.SUPERIORITY), None, "churn@2")
    for comparison in (Comparison.SUPERIORITY, Comparison.NON_INFERIORITY):
        impact = contract(comparison)
        plan = design_of(impact)
        minimum = plan.minimum_sample()
        cohorts = sorted({*COHORTS, minimum.total})
        for truth, shift in truths.items():
            for cohort in cohorts:
                n = cohort // 2
                passes = promoted = 0
                for _ in range(args.decisions):
                    control = ArmStats.binary(n, n, int(rng.binomial(n, BASELINE)))
                    challenger = ArmStats.binary(n, n, int(rng.binomial(n, BASELINE + shift)))
                    # The test at this cohort, whether or not the design may conclude there.
                    test = analyse(plan, control, challenger).test
                    assert test is not None
                    if comparison is Comparison.SUPERIORITY:
                        passes += test.p_value <= plan.alpha and test.effect > 0
                    else:
                        passes += test.ci_low > -(plan.margin or 0.0)
                    analysis = analyse(plan, control, challenger)
                    evidence = (
                        evidence_of(analysis, PRODUCED_AT)
                        if analysis.decision is not Decision.COLLECTING
                        else None
                    )
                    promoted += decide(impact, evidence, plan.challenger_label)
                label = f"{cohort:>7,}" + ("*" if cohort == minimum.total else " ")
                print(
                    f"{comparison.value:<16} {truth:<17} {label} "
                    f"{passes / args.decisions:>12.1%} {promoted / args.decisions:>14.1%} "
                    f"{interval(promoted, args.decisions):>17}"
                )
        print(
            f"  * the design's minimum sample: {minimum.control:,} + {minimum.challenger:,} "
            f"(effect powered {plan.minimum_detectable_effect:g})"
        )
    print(f"gate with no evidence promotes: {no_evidence}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
