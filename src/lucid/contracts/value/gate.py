"""The promotion gate: whether a version may move up a stage, and on what basis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lucid.contracts.identities import normalise_identity, same_person
from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.value.judgement import ClauseMet, weigh_evidence
from lucid.contracts.value.stages import Stage, check_transition
from lucid.errors import Conflict, Forbidden, InvalidInput

DEFAULT_SKEW_LIMIT = 0.02
"""The largest training-serving mismatch rate a pinned feature may show at promotion."""


@dataclass(frozen=True, slots=True)
class Override:
    """A person with the approver role letting a version into production without evidence."""

    approver: str
    rationale: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "approver", normalise_identity(self.approver, "override.approver"))
        if not isinstance(self.rationale, str) or not self.rationale.strip():
            raise InvalidInput(
                "override.rationale", "must say why the evidence requirement is overridden"
            )


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Why the gate let a version up a stage: `stage`, `evidence` or `override`.

    `evidence_digests` are the digests of the records a decision on evidence rests on, one
    per clause of the rule of evidence."""

    basis: str
    summary: str
    evidence_problem: str | None = None
    evidence_digests: tuple[str, ...] = ()


def promotion_gate(
    *,
    version_label: str,
    current: Stage,
    wanted: Stage,
    impact: BusinessImpact | None,
    evidence: Sequence[Evidence],
    production_label: str | None,
    frozen_reason: str | None,
    override: Override | None,
    approvers: Sequence[str],
    registered_by: str,
    feature_skew: Mapping[str, float] | None = None,
    skew_limit: float = DEFAULT_SKEW_LIMIT,
) -> GateDecision:
    """Decide whether `version_label` may move from `current` to `wanted`, or raise why not.

    Order of refusal: no contract, freeze, illegal stage change; then, for production only,
    training-serving skew of the pinned features above `skew_limit` (a share; an override does
    not lift it: skewed features make every evidence moot), then `evidence` against the
    contract's rule of evidence (`lucid.contracts.value.judgement`; `production_label` is the
    version serving production, None when none does) — or, when an override is given, the
    approver role and the four-eyes rule (the approver did not register the version).
    `feature_skew` maps each pinned feature with served values to its measured mismatch rate;
    features never served are not judged.
    """
    if impact is None:
        raise Conflict(
            f"{version_label} has no business-impact contract and can never be promoted; "
            "nothing changed."
        )
    if frozen_reason is not None:
        raise Conflict(
            f"{version_label.split('@')[0]} is frozen ({frozen_reason}): every promotion is "
            "blocked until it is unfrozen; nothing changed."
        )
    check_transition(current, wanted, version_label)
    if wanted is not Stage.PRODUCTION:
        return GateDecision("stage", f"{current.value} → {wanted.value}")
    _refuse_skew(version_label, feature_skew or {}, skew_limit)
    problem, met = weigh_evidence(impact, evidence, version_label, production_label)
    if override is None:
        return _on_evidence(version_label, problem, met)
    _check_approver(version_label, override, approvers, registered_by)
    return GateDecision("override", override.rationale.strip(), evidence_problem=problem)


def _refuse_skew(version_label: str, feature_skew: Mapping[str, float], limit: float) -> None:
    """Refuse production while a pinned feature skews beyond `limit` (a share)."""
    skewed = {feature: rate for feature, rate in feature_skew.items() if rate > limit}
    if skewed:
        listed = ", ".join(f"{feature} {rate:.1%}" for feature, rate in sorted(skewed.items()))
        raise Conflict(
            f"{version_label} may not enter production: its features skew between training and "
            f"serving beyond {limit:.1%} ({listed}); fix serving first, nothing changed."
        )


def _on_evidence(version_label: str, problem: str | None, met: Sequence[ClauseMet]) -> GateDecision:
    """Production on evidence alone: refused with `problem` unless every clause is met."""
    if problem is not None:
        raise Conflict(
            f"{version_label} may not enter production: {problem}. Attach evidence that "
            "meets the contract or have an approver override; nothing changed."
        )
    return GateDecision(
        "evidence",
        "; ".join(clause.describe() for clause in met),
        evidence_digests=tuple(clause.evidence.digest for clause in met),
    )


def _check_approver(
    version_label: str, override: Override, approvers: Sequence[str], registered_by: str
) -> None:
    """An override needs an approver of the project who did not register the version; names
    compare in their normal form (`lucid.contracts.identities`)."""
    approver = override.approver
    if not any(same_person(approver, listed) for listed in approvers):
        listed = ", ".join(approvers) or "nobody"
        raise Forbidden(
            f"override.approver: {approver} is not an approver of this project (approvers: "
            f"{listed}); nothing changed."
        )
    if same_person(approver, registered_by):
        raise Forbidden(
            f"override.approver: {approver} registered {version_label} and may not also approve "
            "its override (four-eyes rule); nothing changed."
        )
