"""The semantic contract: canonical feature definitions, their versions and their governance.

One business concept has one approved definition, shared by every team. A definition states
its computation explicitly — sources, filters, per-source aggregation, normaliser, weight,
window, exclusions — so that two definitions can be compared field by field, fingerprinted,
and compiled to the same SQL for training and serving. This package is pure: parsing, rules,
diffs and decisions; storage and compute live elsewhere.

Its modules, by concept: `versions` (durations, versions, references), `sources`,
`computation` (filters, aggregates, normalisers, terms, exclusions), `examples` (value types,
golden examples), `definition`, `plan` (diffs and version bumps), `governance` (status,
approvals and their rules), `skew`, `audit` (contradictions) and `events`.
"""

from lucid.contracts.semantic.audit import (
    AUDIT_FIELDS,
    AuditReport,
    ConceptContradiction,
    audit,
    comparable_fields,
)
from lucid.contracts.semantic.computation import (
    Aggregate,
    Computation,
    Condition,
    Exclusion,
    Normaliser,
    NormaliserKind,
    Operator,
    Scalar,
    SqlAggregate,
    Term,
    WindowedAggregation,
    computation_from_dict,
)
from lucid.contracts.semantic.definition import (
    GOVERNANCE_FIELDS,
    MEANING_FIELDS,
    OPTIONAL_FIELDS,
    TEXT_FIELDS,
    FeatureDefinition,
)
from lucid.contracts.semantic.events import (
    FeatureApprovalGiven,
    FeatureApproved,
    FeatureDeprecated,
    FeatureProposed,
    LegacyFeatureImported,
    SourceRegistered,
)
from lucid.contracts.semantic.examples import GoldenExample, ValueType, values_match
from lucid.contracts.semantic.fields import check_name
from lucid.contracts.semantic.governance import (
    Approval,
    Governed,
    Status,
    check_approval,
    check_canonical,
    check_servable,
    check_trainable,
    is_stale,
)
from lucid.contracts.semantic.plan import (
    FieldChange,
    PlanAction,
    PlanItem,
    diff_definitions,
    plan_definition,
    required_bump,
)
from lucid.contracts.semantic.skew import (
    LoggedValue,
    ServedValue,
    SkewStats,
    SkewSums,
    added_sums,
    overall_skew,
)
from lucid.contracts.semantic.sources import (
    ColumnType,
    Source,
    SourceKind,
    listing_source,
    schema_mismatches,
    second_listing,
)
from lucid.contracts.semantic.versions import Bump, Duration, FeatureRef, Version

__all__ = [
    "AUDIT_FIELDS",
    "GOVERNANCE_FIELDS",
    "MEANING_FIELDS",
    "OPTIONAL_FIELDS",
    "TEXT_FIELDS",
    "Aggregate",
    "Approval",
    "AuditReport",
    "Bump",
    "ColumnType",
    "Computation",
    "ConceptContradiction",
    "Condition",
    "Duration",
    "Exclusion",
    "FeatureApprovalGiven",
    "FeatureApproved",
    "FeatureDefinition",
    "FeatureDeprecated",
    "FeatureProposed",
    "FeatureRef",
    "FieldChange",
    "GoldenExample",
    "Governed",
    "LegacyFeatureImported",
    "LoggedValue",
    "Normaliser",
    "NormaliserKind",
    "Operator",
    "PlanAction",
    "PlanItem",
    "Scalar",
    "ServedValue",
    "SkewStats",
    "SkewSums",
    "Source",
    "SourceKind",
    "SourceRegistered",
    "SqlAggregate",
    "Status",
    "Term",
    "ValueType",
    "Version",
    "WindowedAggregation",
    "added_sums",
    "audit",
    "check_approval",
    "check_canonical",
    "check_name",
    "check_servable",
    "check_trainable",
    "comparable_fields",
    "computation_from_dict",
    "diff_definitions",
    "is_stale",
    "listing_source",
    "overall_skew",
    "plan_definition",
    "required_bump",
    "schema_mismatches",
    "second_listing",
    "values_match",
]
