"""A model's monitoring policy: its thresholds, its reporting and how a threshold changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.events import DomainEvent, event_type
from lucid.contracts.identities import normalise_identity
from lucid.contracts.names import (
    IDENTIFIER,
    NAME_MAX_LENGTH,
    SLUG,
    check_pattern,
    refuse_all,
    refuse_unknown_keys,
)
from lucid.contracts.validity.actions import SEED_ACTIONS, ActionKind
from lucid.contracts.validity.change_detection import ChangeDetection
from lucid.contracts.validity.evaluation import Check, PolicyEvaluation
from lucid.contracts.validity.evidence import (
    DEFAULT_FALSE_ALARM_BUDGET,
    adjusted_pvalues,
    check_budget,
)
from lucid.contracts.validity.evidence import grade as grade_on_evidence
from lucid.contracts.validity.grades import DriftType, Level
from lucid.contracts.validity.metrics import CHANGE_PREFIXES, DEFAULT_MINIMUM_ROWS, Measurement
from lucid.contracts.validity.thresholds import Threshold, optional_text
from lucid.errors import Forbidden, InvalidInput


class Frequency(StrEnum):
    """How often the stakeholders receive the digest."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class Reporting:
    """Who hears about the policy's runs, how often, and where critical alerts escalate."""

    stakeholders: tuple[str, ...]
    frequency: Frequency = Frequency.DAILY
    escalation: str | None = None

    def __post_init__(self) -> None:
        if not self.stakeholders:
            raise InvalidInput("reporting.stakeholders", "must name at least one stakeholder")
        for person in self.stakeholders:
            if not isinstance(person, str) or not person.strip():
                raise InvalidInput("reporting.stakeholders", f"{person!r} must be non-blank text")

    def to_mapping(self) -> dict[str, Any]:
        return {
            "stakeholders": list(self.stakeholders),
            "frequency": self.frequency.value,
            "escalation": self.escalation,
        }


POLICY_KEYS = (
    "model",
    "thresholds",
    "reporting",
    "minimum_rows",
    "change_detection",
    "sources",
    "false_alarm_budget",
)
"""The fields of a monitoring policy file."""
REPORTING_KEYS = ("stakeholders", "frequency", "escalation")
"""The fields of a policy's `reporting`."""


@dataclass(frozen=True, slots=True)
class MonitoringPolicy:
    """A model's validity contract: thresholds graded on every run, and its reporting."""

    model: str
    thresholds: tuple[Threshold, ...]
    reporting: Reporting
    minimum_rows: int = DEFAULT_MINIMUM_ROWS
    change_detection: ChangeDetection | None = None
    """Off when None: no `cusum:` or `page_hinkley:` checks (see `change_detection`)."""
    sources: tuple[str, ...] | None = None
    """The feature store sources whose data health the run measures; None: the sources
    behind the monitored version's pinned features."""
    false_alarm_budget: float = DEFAULT_FALSE_ALARM_BUDGET
    """Largest chance that a run with no drift raises any tested check (see `evidence`)."""

    def __post_init__(self) -> None:
        check_pattern(
            self.model,
            "model",
            SLUG,
            f"the name of the monitored model (at most {NAME_MAX_LENGTH} characters)",
        )
        if not self.thresholds:
            raise InvalidInput("thresholds", "a monitoring policy needs at least one threshold")
        if self.change_detection is not None and not isinstance(
            self.change_detection, ChangeDetection
        ):
            raise InvalidInput(
                "change_detection",
                f"must be ChangeDetection settings (method, k, h, baseline_runs), not "
                f"{type(self.change_detection).__name__}",
            )
        derived = sorted(t.key for t in self.thresholds if t.metric.startswith(CHANGE_PREFIXES))
        if derived:
            raise InvalidInput(
                "thresholds",
                f"{', '.join(derived)} is computed from the policy's change_detection, "
                "not written as a threshold",
            )
        keys = [threshold.key for threshold in self.thresholds]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise InvalidInput(
                "thresholds", f"{', '.join(duplicates)} is watched twice; keep one threshold"
            )
        if isinstance(self.minimum_rows, bool) or not isinstance(self.minimum_rows, int):
            raise InvalidInput("minimum_rows", f"must be a whole number, not {self.minimum_rows!r}")
        if self.minimum_rows < 1:
            raise InvalidInput("minimum_rows", f"must be at least 1, not {self.minimum_rows}")
        if self.sources is not None:
            _check_sources(self.sources)
        check_budget(self.false_alarm_budget)

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(threshold.metric for threshold in self.thresholds)

    def evaluate(self, measurements: Iterable[Measurement]) -> PolicyEvaluation:
        """Grade every threshold against every measurement it applies to, on effect and
        evidence (`lucid.contracts.validity.evidence`): the p-values of the graded measurements
        are adjusted together (Holm) and a tested check needs its adjusted p-value within
        `false_alarm_budget`.

        Never stops early. A threshold with no measurement yields one `insufficient_data`
        check saying so, so a missing statistic is visible rather than silently passing.
        """
        measured = list(measurements)
        graded = [
            i for i, m in enumerate(measured) if any(t.applies_to(m) for t in self.thresholds)
        ]
        family = adjusted_pvalues([measured[i] for i in graded])
        adjusted = {graded[position]: p for position, p in family.items()}
        checks: list[Check] = []
        for threshold in self.thresholds:
            matching = [(i, m) for i, m in enumerate(measured) if threshold.applies_to(m)]
            if not matching:
                missing = Measurement(
                    metric=threshold.metric,
                    value=None,
                    feature=threshold.feature,
                    segment=threshold.segment,
                    sufficient=False,
                    note="no measurement of this metric in the run",
                )
                checks.append(Check(threshold, missing, Level.INSUFFICIENT_DATA))
                continue
            for index, measurement in matching:
                p = adjusted.get(index)
                level, noted = grade_on_evidence(threshold, measurement, p, self.false_alarm_budget)
                checks.append(Check(threshold, noted, level, p))
        return PolicyEvaluation(tuple(checks))

    @property
    def approving_teams(self) -> tuple[str, ...]:
        """The teams this policy names: every team its thresholds alert, sorted. A change of
        threshold needs each of them to approve."""
        return tuple(
            sorted(
                {
                    action.target
                    for threshold in self.thresholds
                    for action in (*threshold.warning_actions, *threshold.critical_actions)
                    if action.kind is ActionKind.ALERT and action.target is not None
                }
            )
        )

    def change_threshold(
        self,
        new: Threshold,
        *,
        proposer: str,
        rationale: str,
        approvals: Sequence[ThresholdApproval],
    ) -> tuple[MonitoringPolicy, ThresholdChanged]:
        """Replace the threshold watching the same metric, feature and segment as `new`.

        Refused without a rationale, when the threshold does not exist or is unchanged, when a
        team the policy names has not approved, or when the proposer approves their own change.
        Returns the changed policy and the event to record (with the rationale).
        """
        if not rationale.strip():
            raise InvalidInput("rationale", "must say why the threshold changes")
        proposer = normalise_identity(proposer, "proposer")
        keys = [threshold.key for threshold in self.thresholds]
        if new.key not in keys:
            raise InvalidInput(
                "threshold",
                f"{new.key} is not watched by the policy of {self.model} "
                f"(watched: {', '.join(keys)})",
            )
        index = keys.index(new.key)
        old = self.thresholds[index]
        if old == new:
            raise InvalidInput("threshold", f"{new.key} is unchanged; there is nothing to record")
        self_approved = sorted({a.team for a in approvals if a.person == proposer})
        if self_approved:
            raise Forbidden(
                f"{proposer} proposed the change of {new.key} and cannot approve it for "
                f"{', '.join(self_approved)}: nobody approves their own change."
            )
        approved = {approval.team for approval in approvals}
        missing = [team for team in self.approving_teams if team not in approved]
        if missing:
            raise Forbidden(
                f"The change of {new.key} needs the approval of {', '.join(missing)}: every team "
                f"the policy of {self.model} names must approve a threshold change."
            )
        thresholds = list(self.thresholds)
        thresholds[index] = new
        event = ThresholdChanged(
            model=self.model,
            threshold=new.key,
            before=old.to_mapping(),
            after=new.to_mapping(),
            proposer=proposer,
            approvals=[{"team": a.team, "person": a.person} for a in approvals],
        )
        return self.with_thresholds(thresholds), event

    def with_thresholds(self, thresholds: Sequence[Threshold]) -> MonitoringPolicy:
        return MonitoringPolicy(
            self.model,
            tuple(thresholds),
            self.reporting,
            self.minimum_rows,
            self.change_detection,
            self.sources,
            self.false_alarm_budget,
        )

    def to_mapping(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {
            "model": self.model,
            "minimum_rows": self.minimum_rows,
            "false_alarm_budget": self.false_alarm_budget,
            "thresholds": [threshold.to_mapping() for threshold in self.thresholds],
            "reporting": self.reporting.to_mapping(),
        }
        if self.change_detection is not None:
            mapping["change_detection"] = self.change_detection.to_mapping()
        if self.sources is not None:
            mapping["sources"] = list(self.sources)
        return mapping

    @classmethod
    def from_mapping(cls, raw: Any) -> MonitoringPolicy:
        """Build a policy from plain data (parsed YAML or JSON); errors name the field."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("policy", f"must be a mapping of fields, not {type(raw).__name__}")
        refuse_unknown_keys(raw, POLICY_KEYS, "policy")
        model = raw.get("model")
        if not isinstance(model, str):
            raise InvalidInput("model", "is required and must be text")
        thresholds_raw = raw.get("thresholds")
        if not isinstance(thresholds_raw, list):
            raise InvalidInput("thresholds", "is required and must be a list of thresholds")
        thresholds = []
        problems: list[InvalidInput] = []
        for index, item in enumerate(thresholds_raw):
            where = f"thresholds[{index}]"
            try:
                if not isinstance(item, Mapping):
                    raise InvalidInput(where, "must be a mapping of fields")
                thresholds.append(Threshold.from_mapping(item, where))
            except InvalidInput as problem:
                problems.append(problem)
        refuse_all(problems, "thresholds")  # every threshold read: one refusal names each
        reporting_raw = raw.get("reporting")
        if not isinstance(reporting_raw, Mapping):
            raise InvalidInput("reporting", "is required: stakeholders, frequency, escalation")
        reporting = _reporting_from_mapping(reporting_raw)
        minimum = raw.get("minimum_rows", DEFAULT_MINIMUM_ROWS)
        detection_raw = raw.get("change_detection")
        detection = None if detection_raw is None else ChangeDetection.from_mapping(detection_raw)
        sources = raw.get("sources")
        if sources is not None and not isinstance(sources, list):
            raise InvalidInput("sources", f"must be a list of source names, not {sources!r}")
        return cls(
            model,
            tuple(thresholds),
            reporting,
            minimum,
            detection,
            None if sources is None else tuple(sources),
            raw.get("false_alarm_budget", DEFAULT_FALSE_ALARM_BUDGET),
        )

    @classmethod
    def churn_default(cls, model: str = "churn_prediction_v2") -> MonitoringPolicy:
        """The seed's churn policy (§6.3): a template a scenario adopts, never a default."""
        return cls(
            model=model,
            thresholds=(
                Threshold(
                    DriftType.DATA,
                    "psi",
                    0.1,
                    0.2,
                    SEED_ACTIONS["alert_data_team"],
                    SEED_ACTIONS["trigger_retraining_pipeline"],
                ),
                Threshold(
                    DriftType.CONCEPT,
                    "accuracy_drop",
                    0.03,
                    0.05,
                    SEED_ACTIONS["alert_data_team"],
                    SEED_ACTIONS["freeze_deployment_and_investigate"],
                ),
                Threshold(
                    DriftType.BUSINESS,
                    "business_metric_drop",
                    0.01,
                    0.02,
                    SEED_ACTIONS["alert_business_team"],
                    SEED_ACTIONS["automatic_rollback"],
                ),
            ),
            reporting=Reporting(
                stakeholders=(
                    "data_team@company.com",
                    "product_team@company.com",
                    "business_team@company.com",
                ),
                frequency=Frequency.DAILY,
                escalation="PagerDuty on critical",
            ),
        )


@dataclass(frozen=True, slots=True)
class ThresholdApproval:
    """A person approving a change on behalf of a team (e.g. `data_team`)."""

    team: str
    person: str

    def __post_init__(self) -> None:
        if not self.team.strip():
            raise InvalidInput("approval", "must name a team and the person approving for it")
        object.__setattr__(self, "person", normalise_identity(self.person, "approver"))


@event_type("ThresholdChanged")
@dataclass(frozen=True)
class ThresholdChanged(DomainEvent):
    """A monitoring threshold was changed, approved by every team the policy names."""

    model: str
    threshold: str
    before: dict[str, Any]
    after: dict[str, Any]
    proposer: str
    approvals: list[dict[str, str]]


def _check_sources(sources: object) -> None:
    if not isinstance(sources, tuple):
        raise InvalidInput("sources", f"must be a tuple of source names, not {sources!r}")
    for name in sources:
        if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
            raise InvalidInput(
                "sources", f"{name!r} is not a source name (a lower-case identifier)"
            )
    repeated = sorted({name for name in sources if sources.count(name) > 1})
    if repeated:
        raise InvalidInput("sources", f"{', '.join(repeated)} is named twice; name it once")


def _reporting_from_mapping(raw: Mapping[str, Any]) -> Reporting:
    refuse_unknown_keys(raw, REPORTING_KEYS, "reporting")
    stakeholders = raw.get("stakeholders")
    if not isinstance(stakeholders, list):
        raise InvalidInput("reporting.stakeholders", "is required and must be a list")
    try:
        frequency = Frequency(raw.get("frequency", Frequency.DAILY.value))
    except ValueError:
        known = ", ".join(f.value for f in Frequency)
        raise InvalidInput(
            "reporting.frequency", f"{raw.get('frequency')!r} is not one of {known}"
        ) from None
    escalation = optional_text(raw.get("escalation"), "reporting.escalation")
    return Reporting(tuple(stakeholders), frequency, escalation)
