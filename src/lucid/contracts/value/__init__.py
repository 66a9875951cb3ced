"""The value contract: every model is tied to the business result it must deliver.

A `BusinessImpact` (`impact`) says which business metric a model must move, from which baseline
to which target, and under which value it must be rolled back. A model version climbs the
stages candidate → challenger → production → archived (`stages`); the `promotion_gate`
(`gate`) lets a version into production only with `Evidence` (`evidence`: experiment or shadow
results) that meets the contract's rule of evidence (`rule`, applied by `judgement`) and holds
every guardrail, or with an approver's `Override`; `external` validates evidence produced
outside Lucid. `evaluation` judges a measured value against
the contract; `versions` are the stored versions. Everything here is pure: no I/O, only the
standard library.
"""

from lucid.contracts.value.direction import Direction
from lucid.contracts.value.evaluation import ModelEvaluation, Verdict, evaluate, pearson
from lucid.contracts.value.evidence import Arm, Evidence
from lucid.contracts.value.external import read_external_evidence
from lucid.contracts.value.fields import finite, text
from lucid.contracts.value.gate import DEFAULT_SKEW_LIMIT, GateDecision, Override, promotion_gate
from lucid.contracts.value.impact import (
    BusinessImpact,
    Guardrail,
    GuardrailBound,
    GuardrailResult,
    parse_period,
)
from lucid.contracts.value.judgement import NO_MODEL, ClauseMet, judge_evidence, weigh_evidence
from lucid.contracts.value.names import (
    PINNED_FEATURE,
    validate_model_name,
    validate_pinned_feature,
)
from lucid.contracts.value.rule import (
    DEFAULT_RULE,
    PREDICTIVE_METRICS,
    Comparison,
    EvidenceClause,
    EvidenceKind,
    Origin,
    parse_rule,
)
from lucid.contracts.value.stages import PROMOTIONS, Stage, check_transition
from lucid.contracts.value.versions import (
    ArtifactKind,
    ArtifactRef,
    ModelSummary,
    ModelVersion,
    Observation,
)

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_SKEW_LIMIT",
    "NO_MODEL",
    "PINNED_FEATURE",
    "PREDICTIVE_METRICS",
    "PROMOTIONS",
    "Arm",
    "ArtifactKind",
    "ArtifactRef",
    "BusinessImpact",
    "ClauseMet",
    "Comparison",
    "Direction",
    "Evidence",
    "EvidenceClause",
    "EvidenceKind",
    "GateDecision",
    "Guardrail",
    "GuardrailBound",
    "GuardrailResult",
    "ModelEvaluation",
    "ModelSummary",
    "ModelVersion",
    "Observation",
    "Origin",
    "Override",
    "Stage",
    "Verdict",
    "check_transition",
    "evaluate",
    "finite",
    "judge_evidence",
    "parse_period",
    "parse_rule",
    "pearson",
    "promotion_gate",
    "read_external_evidence",
    "text",
    "validate_model_name",
    "validate_pinned_feature",
    "weigh_evidence",
]
