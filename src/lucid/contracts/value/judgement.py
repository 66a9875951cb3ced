"""The rule of evidence applied: whether a version's evidence records meet each clause of its
contract's `evidence_rule`, and its guardrails.

A clause of kind business needs the version's business evidence on the contract's metric; a
predictive clause its predictive evidence on the clause's metric. The record's treatment arm is
the version (`churn@3`) and its control arm the version serving production, or `"no model"`
for predictive evidence when none serves (a business test then has nothing to compare with).
The record's alpha is no looser than the contract's and its interval's confidence at least
1 - alpha. Superiority: p ≤ alpha and the whole interval on the better side of 0.
Non-inferiority: the interval's worse bound no further than the margin (the clause's, else the
contract's rollback margin) on the worse side. The treatment's point estimate is not asked to
reach the target: a challenger truly at the target would miss it half the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lucid.contracts.value.direction import Direction
from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.value.rule import Comparison, EvidenceClause, EvidenceKind, Origin

NO_MODEL = "no model"
"""The control arm of predictive evidence gathered while no version served production."""


@dataclass(frozen=True, slots=True)
class ClauseMet:
    """A clause of the rule and the evidence record that meets it."""

    clause: EvidenceClause
    evidence: Evidence

    def describe(self) -> str:
        """`business superiority on the contract's metric: effect +0.05 [0.02, 0.08], p = 0.001
        (experiment exp-42, produced by Lucid)`."""
        e = self.evidence
        origin = "external evidence" if e.origin is Origin.EXTERNAL else "produced by Lucid"
        return (
            f"{self.clause.describe()}: effect {e.effect:+.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}]"
            f", p = {e.p_value:.4g} ({e.source}, {origin})"
        )


def judge_evidence(
    impact: BusinessImpact, evidence: Sequence[Evidence], treatment: str, control: str | None
) -> str | None:
    """The first reason `evidence` does not meet `impact`'s rule of evidence for the version
    `treatment` against production version `control` (None: none serves), or None if it does."""
    problem, _ = weigh_evidence(impact, evidence, treatment, control)
    return problem


def weigh_evidence(
    impact: BusinessImpact, evidence: Sequence[Evidence], treatment: str, control: str | None
) -> tuple[str | None, tuple[ClauseMet, ...]]:
    """`judge_evidence`'s answer with the clauses met, in the rule's order (all of them when
    the answer is None)."""
    met: list[ClauseMet] = []
    for clause in impact.evidence_rule:
        record = _record_for(impact, clause, evidence)
        problem = _judge_clause(impact, clause, record, evidence, treatment, control)
        if problem is not None:
            return problem, tuple(met)
        assert record is not None
        met.append(ClauseMet(clause, record))
    return _judge_guardrails(impact, met), tuple(met)


def _record_for(
    impact: BusinessImpact, clause: EvidenceClause, evidence: Sequence[Evidence]
) -> Evidence | None:
    """The last record of the clause's kind and metric."""
    metric = impact.metric if clause.kind is EvidenceKind.BUSINESS else clause.metric
    found = [e for e in evidence if e.kind is clause.kind and e.metric == metric]
    return found[-1] if found else None


def _judge_clause(
    impact: BusinessImpact,
    clause: EvidenceClause,
    record: Evidence | None,
    evidence: Sequence[Evidence],
    treatment: str,
    control: str | None,
) -> str | None:
    named = clause.describe()
    business = clause.kind is EvidenceKind.BUSINESS
    metric = impact.metric if business else str(clause.metric)
    if business and control is None:
        return (
            f"{named} cannot be met: a business test needs a production version to compare "
            "against, and no version serves production"
        )
    if record is None:
        others = sorted({e.metric for e in evidence if e.kind is clause.kind})
        measured = f" (its {clause.kind.value} evidence measures {', '.join(others)})"
        return (
            f"{named} is required but {treatment} has no {clause.kind.value} evidence on "
            f"{metric}" + (measured if others else "")
        )
    by = f"{named} is not met by {record.source} ({record.origin.value})"
    wanted_control = control if control is not None else NO_MODEL
    if record.treatment.name != treatment:
        return f"{by}: its treatment arm is {record.treatment.name}, not {treatment}"
    if record.control.name != wanted_control:
        serving = "the version serving production" if control is not None else "none serves"
        return f"{by}: its control arm is {record.control.name}, not {wanted_control} ({serving})"
    direction = impact.direction if business else clause.direction
    assert direction is not None
    if record.direction is not None and record.direction is not direction:
        return (
            f"{by}: it says {record.direction.value} {metric} is better, "
            f"but {direction.value} is better"
        )
    if record.alpha > impact.alpha:
        return f"{by}: its alpha {record.alpha:g} is looser than the contract's {impact.alpha:g}"
    if record.confidence < 1 - impact.alpha - 1e-12:
        return (
            f"{by}: its interval's confidence {record.confidence:g} is below "
            f"1 - alpha = {1 - impact.alpha:g}"
        )
    if clause.comparison is Comparison.SUPERIORITY:
        return _superiority(by, record, direction, impact.alpha)
    margin = clause.margin if clause.margin is not None else impact.rollback_margin
    return _non_inferiority(by, record, direction, margin)


def _superiority(by: str, record: Evidence, direction: Direction, alpha: float) -> str | None:
    interval = f"[{record.ci_low:g}, {record.ci_high:g}]"
    if record.p_value > alpha:
        return (
            f"{by}: the effect {record.effect:+g} {interval} is not significant: "
            f"p = {record.p_value:.4g} > alpha {alpha:g}"
        )
    better = record.ci_low > 0 if direction is Direction.HIGHER else record.ci_high < 0
    if not better:
        return (
            f"{by}: the effect's confidence interval {interval} does not lie wholly on the "
            f"{direction.value}-is-better side of 0"
        )
    return None


def _non_inferiority(by: str, record: Evidence, direction: Direction, margin: float) -> str | None:
    worse = record.ci_low if direction is Direction.HIGHER else record.ci_high
    bound = -margin if direction is Direction.HIGHER else margin
    if direction.at_least_as_good(worse, bound):
        return None
    return (
        f"{by}: the interval [{record.ci_low:g}, {record.ci_high:g}] reaches {worse:g}, "
        f"worse than the margin {bound:+g} ({direction.value} is better)"
    )


def _judge_guardrails(impact: BusinessImpact, met: Sequence[ClauseMet]) -> str | None:
    if not impact.guardrails:
        return None
    business = [m.evidence for m in met if m.clause.kind is EvidenceKind.BUSINESS]
    if not business:
        listed = ", ".join(g.describe() for g in impact.guardrails)
        return (
            f"the guardrails ({listed}) need business evidence, but the rule of evidence asks "
            "for none"
        )
    record = business[0]
    for result in record.guardrail_results(impact):
        guarded = result.guardrail.describe()
        if result.value is None:
            return (
                f"{record.source} ({record.origin.value}) has no measured value for the "
                f"guardrail {guarded}"
            )
        if not result.held:
            return f"the guardrail {guarded} is broken ({result.value:g}, {record.source})"
    return None
