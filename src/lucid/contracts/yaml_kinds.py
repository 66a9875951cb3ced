"""The YAML files a user writes, described from the key tables their readers refuse unknown
keys with (`lucid schema KIND`, docs/yaml.md): each section's keys, with the type and default
of the field of the same name in the value it is read into."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum

from lucid.contracts.deployments import (
    CRITERION_KEYS,
    DECISION_KEYS,
    HYPOTHESIS_KEYS,
    Hypothesis,
    SuccessCriterion,
)
from lucid.contracts.semantic.definition import DEFINITION_FIELDS, FeatureDefinition
from lucid.contracts.semantic.sources import SOURCE_FIELDS, Source
from lucid.contracts.validity.policy import (
    POLICY_KEYS,
    REPORTING_KEYS,
    MonitoringPolicy,
    Reporting,
)
from lucid.contracts.validity.thresholds import THRESHOLD_KEYS, THRESHOLD_REQUIRED, Threshold
from lucid.contracts.value.evidence import (
    ARM_KEYS,
    EVIDENCE_KEYS,
    EVIDENCE_REQUIRED,
    Arm,
    Evidence,
)
from lucid.contracts.value.impact import GUARDRAIL_KEYS, IMPACT_KEYS, BusinessImpact, Guardrail
from lucid.contracts.value.rule import CLAUSE_KEYS, EvidenceClause
from lucid.errors import InvalidInput

DEFINITION_FILE_KEYS = ("sources", "features")
"""The top-level keys of a definition file (`lucid features apply`)."""
ACTIONS_NOTE = "action or list of actions (alert:TEAM, retrain, freeze, rollback, investigate)"
FILE_NOTES = {"sources": "list of sources[]", "features": "list of features[]"}


@dataclass(frozen=True)
class Field:
    """One key of a section: its type and whether a file must give it."""

    key: str
    type: str
    required: bool
    default: str


@dataclass(frozen=True)
class Section:
    """A mapping of a file (`path` as written in error messages), the keys its reader accepts
    and the value it is read into (None when the keys are read one by one)."""

    path: str
    keys: Collection[str]
    shape: type | None
    about: str
    required: Collection[str] = ()
    """Keys the reader requires whatever `shape` says (read into a field of another name)."""
    notes: Mapping[str, str] = field(default_factory=dict)
    """What a key holds when no field of `shape` has its name."""

    def fields(self) -> list[Field]:
        """Each key in the reader's order, typed from `shape`'s field of the same name."""
        known = {f.name: f for f in dataclasses.fields(self.shape)} if self.shape else {}
        listed = []
        for key in sorted(self.keys) if isinstance(self.keys, set | frozenset) else self.keys:
            found = known.get(key)
            if found is None:
                note = self.notes.get(key, "see the reader")
                listed.append(Field(key, note, key in self.required, ""))
                continue
            has_default = found.default is not dataclasses.MISSING
            has_factory = found.default_factory is not dataclasses.MISSING
            default = shown(found.default) if has_default else "empty" if has_factory else ""
            required = key in self.required or not (has_default or has_factory)
            listed.append(Field(key, str(found.type), required, default))
        return listed


@dataclass(frozen=True)
class Kind:
    """A kind of YAML file: what it is for, the command that reads it, its sections."""

    name: str
    about: str
    read_by: str
    sections: tuple[Section, ...]


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "sources",
            "Where the raw data is: a table or folder of files, its entity and times.",
            "lucid features plan|apply FILE",
            (
                Section(
                    "(file)",
                    DEFINITION_FILE_KEYS,
                    None,
                    "a definition file's top level",
                    (),
                    FILE_NOTES,
                ),
                Section("sources[]", SOURCE_FIELDS, Source, "one source"),
            ),
        ),
        Kind(
            "features",
            "One version of a feature: its meaning (the computation) and who answers for it.",
            "lucid features plan|apply FILE",
            (
                Section(
                    "(file)",
                    DEFINITION_FILE_KEYS,
                    None,
                    "a definition file's top level",
                    (),
                    FILE_NOTES,
                ),
                Section("features[]", DEFINITION_FIELDS, FeatureDefinition, "one definition"),
            ),
        ),
        Kind(
            "contracts",
            "A model version's business-impact contract: the metric it must move, and the "
            "evidence that lets it into production.",
            "lucid models register NAME --contract FILE",
            (
                Section("(file)", IMPACT_KEYS, BusinessImpact, "the contract"),
                Section(
                    "guardrails[]",
                    GUARDRAIL_KEYS,
                    Guardrail,
                    "one guardrail",
                    ("metric",),
                    {"cap": "number (give cap or floor)", "floor": "number (give cap or floor)"},
                ),
                Section("evidence_rule[]", CLAUSE_KEYS, EvidenceClause, "one clause"),
            ),
        ),
        Kind(
            "policies",
            "A model's monitoring policy: thresholds graded on every run, and who hears.",
            "lucid monitor policy set MODEL FILE",
            (
                Section("(file)", POLICY_KEYS, MonitoringPolicy, "the policy"),
                Section(
                    "thresholds[]",
                    THRESHOLD_KEYS,
                    Threshold,
                    "one threshold",
                    THRESHOLD_REQUIRED,
                    {
                        "warning_action": ACTIONS_NOTE,
                        "critical_action": ACTIONS_NOTE,
                    },
                ),
                Section("reporting", REPORTING_KEYS, Reporting, "who is told, how often"),
            ),
        ),
        Kind(
            "decisions",
            "A deployment decision: the hypotheses a deployment is judged on at its checkpoints.",
            "lucid deploy NAME VERSION --decision FILE",
            (
                Section(
                    "(file)",
                    DECISION_KEYS,
                    None,
                    "the decision",
                    ("hypotheses",),
                    {
                        "hypotheses": "list of hypotheses[] (a text or a mapping each)",
                        "success_criteria": "list of success_criteria[]",
                        "checkpoints": "list of days after deployment",
                    },
                ),
                Section("hypotheses[]", HYPOTHESIS_KEYS, Hypothesis, "one hypothesis"),
                Section("success_criteria[]", CRITERION_KEYS, SuccessCriterion, "one criterion"),
            ),
        ),
        Kind(
            "evidence",
            "An experiment's result on a business metric, attached to a version.",
            "lucid models attach-evidence NAME VERSION --evidence FILE",
            (
                Section(
                    "(file)",
                    EVIDENCE_KEYS,
                    Evidence,
                    "the evidence record",
                    EVIDENCE_REQUIRED,
                    {"digest": "text (written with the record; recomputed when read)"},
                ),
                Section("control, treatment", ARM_KEYS, Arm, "one arm"),
            ),
        ),
    )
}
"""The file kinds whose readers are hand-written; `lucid.yaml` is described from its
settings model."""


def kind_of(name: str, others: Collection[str] = ()) -> Kind | None:
    """The kind named `name`; None for one of `others` (described elsewhere); refuses any
    other name, naming `KIND` and the kinds there are."""
    if name in KINDS:
        return KINDS[name]
    if name in others:
        return None
    every = ", ".join([*KINDS, *others])
    raise InvalidInput("KIND", f"must be one of {every} (got {name!r})")


def shown(default: object) -> str:
    """A default as a file would write it: an enum by its value."""
    return repr(default.value) if isinstance(default, Enum) else repr(default)
