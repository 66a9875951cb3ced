"""The validity contract: monitoring policies, thresholds, graded checks and the actions they ask.

A `MonitoringPolicy` holds a model's thresholds and reporting. `evaluate` grades *every*
threshold against the measurements of a run and never stops at the first non-OK check (the
seed's `checkDrift` did, and hid every later check). The worst level of the run decides its
severity; the actions are those asked by every non-OK check, so a warning on data drift and a
critical business drop report both and ask for the rollback.

Pure: no I/O. Measurements come from the monitoring statistics; YAML is read elsewhere and
handed here as a mapping (`MonitoringPolicy.from_mapping`), so the SDK and YAML build the same
objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lucid.contracts.events import DomainEvent, event_type
from lucid.errors import Forbidden, InvalidInput

DEFAULT_MINIMUM_ROWS = 500
"""Below this many usable rows on either side a drift check is `insufficient_data`."""


class DriftType(StrEnum):
    """What a threshold watches: inputs (data), input→output relation (concept), model
    quality (performance), or the business result the model must deliver (business)."""

    DATA = "data"
    CONCEPT = "concept"
    PERFORMANCE = "performance"
    BUSINESS = "business"


class Level(StrEnum):
    """The grade of a check. Ordered by `severity`: the worst level of a run decides.

    `insufficient_data` ranks above `ok`: a check that could not be judged is not a pass.
    """

    OK = "ok"
    INSUFFICIENT_DATA = "insufficient_data"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    # Compare by severity, not as text ("insufficient_data" < "ok" alphabetically).
    def __lt__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity < other.severity

    def __le__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity <= other.severity

    def __gt__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity > other.severity

    def __ge__(self, other: str) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.severity >= other.severity

    @staticmethod
    def worst(levels: Iterable[Level]) -> Level:
        """The most severe of `levels`; `ok` when there are none."""
        return max(levels, key=lambda level: level.severity, default=Level.OK)


_SEVERITY = {
    Level.OK: 0,
    Level.INSUFFICIENT_DATA: 1,
    Level.WARNING: 2,
    Level.CRITICAL: 3,
}


class ActionKind(StrEnum):
    """What a graded check asks for."""

    ALERT = "alert"
    RETRAIN = "retrain"
    FREEZE = "freeze"
    ROLLBACK = "rollback"
    INVESTIGATE = "investigate"


_TARGET = re.compile(r"^[a-z][a-z0-9_.@-]*$")


@dataclass(frozen=True, slots=True, order=True)
class Action:
    """One action: a kind and an optional target (the team alerted, e.g. `data_team`).

    Written `kind` or `kind:target` (`alert:data_team`, `retrain`, `rollback`).
    """

    kind: ActionKind
    target: str | None = None

    def __post_init__(self) -> None:
        if self.target is not None and not _TARGET.match(self.target):
            raise InvalidInput(
                "action.target",
                f"{self.target!r} must be lower-case letters, digits, '_', '.', '@' or '-'",
            )
        if self.kind is ActionKind.ALERT and self.target is None:
            raise InvalidInput("action", "alert must name whom it alerts, e.g. alert:data_team")

    @classmethod
    def parse(cls, text: str) -> Action:
        kind_text, _, target = text.strip().partition(":")
        try:
            kind = ActionKind(kind_text)
        except ValueError:
            known = ", ".join(kind.value for kind in ActionKind)
            raise InvalidInput("action", f"{text!r} is not an action (known: {known})") from None
        return cls(kind, target or None)

    def __str__(self) -> str:
        return self.kind.value if self.target is None else f"{self.kind.value}:{self.target}"


SEED_ACTIONS: Mapping[str, tuple[Action, ...]] = {
    "alert_data_team": (Action(ActionKind.ALERT, "data_team"),),
    "alert_business_team": (Action(ActionKind.ALERT, "business_team"),),
    "trigger_retraining_pipeline": (Action(ActionKind.RETRAIN),),
    "freeze_deployment_and_investigate": (
        Action(ActionKind.FREEZE),
        Action(ActionKind.INVESTIGATE),
    ),
    "automatic_rollback": (Action(ActionKind.ROLLBACK),),
}
"""The seed's action names, accepted as aliases in policies."""


def parse_actions(value: str | Sequence[str], field_name: str) -> tuple[Action, ...]:
    """Actions from `alert:data_team`, a seed alias, or a list of either."""
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise InvalidInput(field_name, "must name at least one action")
    actions: list[Action] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(field_name, f"{item!r} must be an action written as text")
        if item in SEED_ACTIONS:
            actions.extend(SEED_ACTIONS[item])
            continue
        try:
            actions.append(Action.parse(item))
        except InvalidInput as error:
            raise InvalidInput(field_name, error.rule) from None
    return tuple(dict.fromkeys(actions))


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric a threshold may name: its direction, unit and the drift types it fits."""

    name: str
    higher_is_worse: bool
    unit: str
    drift_types: frozenset[DriftType]
    description: str


_DISTRIBUTION = frozenset({DriftType.DATA, DriftType.CONCEPT})
_QUALITY = frozenset({DriftType.CONCEPT, DriftType.PERFORMANCE})

METRICS: Mapping[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "psi", True, "nats", _DISTRIBUTION, "population stability index over reference bins"
        ),
        MetricSpec("ks", True, "fraction", _DISTRIBUTION, "Kolmogorov-Smirnov statistic D"),
        MetricSpec("ks_pvalue", False, "probability", _DISTRIBUTION, "two-sided KS p-value"),
        MetricSpec("jensen_shannon", True, "distance (base 2, 0..1)", _DISTRIBUTION, "JS distance"),
        MetricSpec(
            "wasserstein",
            True,
            "reference standard deviations",
            _DISTRIBUTION,
            "Wasserstein-1 distance divided by the reference standard deviation",
        ),
        MetricSpec(
            "chi_square_pvalue",
            False,
            "probability",
            _DISTRIBUTION,
            "chi-square homogeneity test p-value (categorical columns)",
        ),
        MetricSpec("accuracy_drop", True, "fraction (absolute)", _QUALITY, "reference - current"),
        MetricSpec("auc_drop", True, "fraction (absolute)", _QUALITY, "reference - current AUC"),
        MetricSpec("precision_drop", True, "fraction (absolute)", _QUALITY, "precision drop"),
        MetricSpec("recall_drop", True, "fraction (absolute)", _QUALITY, "recall drop"),
        MetricSpec(
            "estimated_accuracy_drop",
            True,
            "fraction (absolute)",
            _QUALITY,
            "reference accuracy - label-free (CBPE) estimate of current accuracy",
        ),
        MetricSpec(
            "estimated_auc_drop",
            True,
            "fraction (absolute)",
            _QUALITY,
            "reference AUC - label-free (CBPE) estimate of current AUC",
        ),
        MetricSpec(
            "business_metric_drop",
            True,
            "fraction of the baseline (relative)",
            frozenset({DriftType.BUSINESS, DriftType.PERFORMANCE}),
            "(baseline - current) / |baseline|, sign-corrected for lower-is-better metrics",
        ),
    )
}
"""Every metric a threshold may name."""


def metric_spec(name: str) -> MetricSpec:
    try:
        return METRICS[name]
    except KeyError:
        known = ", ".join(sorted(METRICS))
        raise InvalidInput("metric", f"{name!r} is not a known metric (known: {known})") from None


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one statistic measured on one run: the input of `MonitoringPolicy.evaluate`.

    `value` is None when it could not be computed; `sufficient` is False when a side had
    fewer usable rows than the minimum window (the check is then `insufficient_data`).
    `expected_no_drift` is the value expected with no drift at these sample sizes (PSI: the
    mean (1/n + 1/m)(bins - 1)); `note` says why a value is missing or how an edge was ruled.
    """

    metric: str
    value: float | None
    feature: str | None = None
    segment: str | None = None
    reference_rows: int | None = None
    current_rows: int | None = None
    sufficient: bool = True
    expected_no_drift: float | None = None
    note: str | None = None
    details: Mapping[str, float | int | str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "feature": self.feature,
            "segment": self.segment,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "sufficient": self.sufficient,
            "expected_no_drift": self.expected_no_drift,
            "note": self.note,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class Threshold:
    """A graded threshold: the metric it watches, warning and critical values and actions.

    For a higher-is-worse metric (PSI, drops) warning < critical and a value at or above a
    bound reaches its level; for a lower-is-worse metric (p-values) warning > critical and a
    value at or below a bound reaches it. `feature` and `segment` restrict the threshold to
    one column or one segment (e.g. `plan=pro`); None watches all of them.
    """

    drift_type: DriftType
    metric: str
    warning: float
    critical: float
    warning_actions: tuple[Action, ...]
    critical_actions: tuple[Action, ...]
    feature: str | None = None
    segment: str | None = None
    runbook: str | None = None

    def __post_init__(self) -> None:
        spec = metric_spec(self.metric)
        if self.drift_type not in spec.drift_types:
            allowed = ", ".join(sorted(t.value for t in spec.drift_types))
            raise InvalidInput(
                "drift_type",
                f"{self.drift_type.value} does not fit metric {self.metric} (fits: {allowed})",
            )
        for name, bound in (("warning", self.warning), ("critical", self.critical)):
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise InvalidInput(name, f"must be a number, not {bound!r}")
            if not math.isfinite(bound):
                raise InvalidInput(name, f"must be a finite number, not {bound}")
        if spec.higher_is_worse and not self.warning < self.critical:
            raise InvalidInput(
                "warning",
                f"must be below critical for {self.metric}, where higher is worse "
                f"(got warning {self.warning}, critical {self.critical})",
            )
        if not spec.higher_is_worse and not self.warning > self.critical:
            raise InvalidInput(
                "warning",
                f"must be above critical for {self.metric}, where lower is worse "
                f"(got warning {self.warning}, critical {self.critical})",
            )
        if not self.warning_actions or not self.critical_actions:
            raise InvalidInput("actions", "a threshold needs a warning and a critical action")
        for name, scope in (("feature", self.feature), ("segment", self.segment)):
            if scope is not None and not scope.strip():
                raise InvalidInput(name, "must be a name or absent, not blank")
        if self.runbook is not None and not self.runbook.strip():
            raise InvalidInput("runbook", "must be a Markdown path or URL, or absent")

    @property
    def key(self) -> str:
        """Identifies the threshold within a policy: `metric[feature][@segment]`."""
        return (
            self.metric
            + (f"[{self.feature}]" if self.feature else "")
            + (f"@{self.segment}" if self.segment else "")
        )

    def grade(self, value: float | None, *, sufficient: bool = True) -> Level:
        """The level of `value`: `insufficient_data` when not judgeable (None, NaN, small)."""
        if not sufficient or value is None or math.isnan(value):
            return Level.INSUFFICIENT_DATA
        if metric_spec(self.metric).higher_is_worse:
            if value >= self.critical:
                return Level.CRITICAL
            return Level.WARNING if value >= self.warning else Level.OK
        if value <= self.critical:
            return Level.CRITICAL
        return Level.WARNING if value <= self.warning else Level.OK

    def actions_for(self, level: Level) -> tuple[Action, ...]:
        """The actions `level` asks for: none for ok and insufficient data."""
        if level is Level.CRITICAL:
            return self.critical_actions
        if level is Level.WARNING:
            return self.warning_actions
        return ()

    def applies_to(self, measurement: Measurement) -> bool:
        return (
            measurement.metric == self.metric
            and (self.feature is None or measurement.feature == self.feature)
            and (self.segment is None or measurement.segment == self.segment)
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "drift_type": self.drift_type.value,
            "metric": self.metric,
            "warning": self.warning,
            "critical": self.critical,
            "warning_action": [str(a) for a in self.warning_actions],
            "critical_action": [str(a) for a in self.critical_actions],
            "feature": self.feature,
            "segment": self.segment,
            "runbook": self.runbook,
        }

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "threshold") -> Threshold:
        known = {
            "drift_type",
            "metric",
            "warning",
            "critical",
            "warning_action",
            "critical_action",
            "feature",
            "segment",
            "runbook",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidInput(where, f"has unknown field(s) {', '.join(map(str, unknown))}")
        for required in ("drift_type", "metric", "warning", "critical"):
            if required not in raw:
                raise InvalidInput(f"{where}.{required}", "is required")
        for required in ("warning_action", "critical_action"):
            if required not in raw:
                raise InvalidInput(f"{where}.{required}", "is required")
        try:
            drift_type = DriftType(raw["drift_type"])
        except ValueError:
            known_types = ", ".join(t.value for t in DriftType)
            raise InvalidInput(
                f"{where}.drift_type", f"{raw['drift_type']!r} is not one of {known_types}"
            ) from None
        try:
            return cls(
                drift_type=drift_type,
                metric=str(raw["metric"]),
                warning=raw["warning"],
                critical=raw["critical"],
                warning_actions=parse_actions(raw["warning_action"], f"{where}.warning_action"),
                critical_actions=parse_actions(raw["critical_action"], f"{where}.critical_action"),
                feature=_optional_text(raw.get("feature"), f"{where}.feature"),
                segment=_optional_text(raw.get("segment"), f"{where}.segment"),
                runbook=_optional_text(raw.get("runbook"), f"{where}.runbook"),
            )
        except InvalidInput as error:
            if error.field.startswith(where):
                raise
            raise InvalidInput(f"{where}.{error.field}", error.rule) from None


def _optional_text(value: Any, field_name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field_name, f"must be text, not {value!r}")
    return value


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


@dataclass(frozen=True, slots=True)
class Check:
    """One threshold graded against one measurement (or against nothing: insufficient)."""

    threshold: Threshold
    measurement: Measurement
    level: Level

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.threshold.actions_for(self.level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold.key,
            "drift_type": self.threshold.drift_type.value,
            "metric": self.measurement.metric,
            "feature": self.measurement.feature,
            "segment": self.measurement.segment,
            "value": self.measurement.value,
            "level": self.level.value,
            "warning": self.threshold.warning,
            "critical": self.threshold.critical,
            "actions": [str(action) for action in self.actions],
            "runbook": self.threshold.runbook,
            "reference_rows": self.measurement.reference_rows,
            "current_rows": self.measurement.current_rows,
            "expected_no_drift": self.measurement.expected_no_drift,
            "note": self.measurement.note,
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every check of a run, its worst level, and every action the non-OK checks ask for."""

    checks: tuple[Check, ...]

    @property
    def level(self) -> Level:
        return Level.worst(check.level for check in self.checks)

    @property
    def actions(self) -> tuple[Action, ...]:
        """Actions of every warning and critical check, deduplicated, most severe first."""
        ordered = sorted(self.checks, key=lambda check: -check.level.severity)
        return tuple(dict.fromkeys(action for check in ordered for action in check.actions))

    def at(self, level: Level) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.level is level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "actions": [str(action) for action in self.actions],
            "checks": [check.to_dict() for check in self.checks],
        }


def stored_evaluation(policy: MonitoringPolicy, checks: Sequence[Mapping[str, Any]]) -> Evaluation:
    """The evaluation a stored run recorded, rebuilt from its policy and its stored checks
    (each a mapping with `threshold` key, `metric`, `feature`, `segment`, `value`, `level`,
    row counts, `expected_no_drift`, `note`). Levels are taken as stored, never graded again,
    so a run resumed later asks exactly what it asked when it was measured."""
    thresholds = {threshold.key: threshold for threshold in policy.thresholds}
    rebuilt: list[Check] = []
    for position, stored in enumerate(checks):
        threshold = thresholds.get(str(stored["threshold"]))
        if threshold is None:
            raise InvalidInput(
                f"checks[{position}].threshold",
                f"{stored['threshold']!r} is not a threshold of the run's policy",
            )
        level = Level(stored["level"])
        measurement = Measurement(
            metric=str(stored["metric"]),
            value=stored.get("value"),
            feature=stored.get("feature"),
            segment=stored.get("segment"),
            reference_rows=stored.get("reference_rows"),
            current_rows=stored.get("current_rows"),
            sufficient=level is not Level.INSUFFICIENT_DATA,
            expected_no_drift=stored.get("expected_no_drift"),
            note=stored.get("note"),
        )
        rebuilt.append(Check(threshold, measurement, level))
    return Evaluation(tuple(rebuilt))


@dataclass(frozen=True, slots=True)
class MonitoringPolicy:
    """A model's validity contract: thresholds graded on every run, and its reporting."""

    model: str
    thresholds: tuple[Threshold, ...]
    reporting: Reporting
    minimum_rows: int = DEFAULT_MINIMUM_ROWS

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidInput("model", "must name the monitored model")
        if not self.thresholds:
            raise InvalidInput("thresholds", "a monitoring policy needs at least one threshold")
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

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(threshold.metric for threshold in self.thresholds)

    def evaluate(self, measurements: Iterable[Measurement]) -> Evaluation:
        """Grade every threshold against every measurement it applies to.

        Never stops early. A threshold with no measurement yields one `insufficient_data`
        check saying so, so a missing statistic is visible rather than silently passing.
        """
        measured = list(measurements)
        checks: list[Check] = []
        for threshold in self.thresholds:
            matching = [m for m in measured if threshold.applies_to(m)]
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
            for measurement in matching:
                level = threshold.grade(measurement.value, sufficient=measurement.sufficient)
                checks.append(Check(threshold, measurement, level))
        return Evaluation(tuple(checks))

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
        approvals: Sequence[Approval],
    ) -> tuple[MonitoringPolicy, ThresholdChanged]:
        """Replace the threshold watching the same metric, feature and segment as `new`.

        Refused without a rationale, when the threshold does not exist or is unchanged, when a
        team the policy names has not approved, or when the proposer approves their own change.
        Returns the changed policy and the event to record (with the rationale).
        """
        if not rationale.strip():
            raise InvalidInput("rationale", "must say why the threshold changes")
        if not proposer.strip():
            raise InvalidInput("proposer", "must name who proposes the change")
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
        return MonitoringPolicy(self.model, tuple(thresholds), self.reporting, self.minimum_rows)

    def to_mapping(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "minimum_rows": self.minimum_rows,
            "thresholds": [threshold.to_mapping() for threshold in self.thresholds],
            "reporting": self.reporting.to_mapping(),
        }

    @classmethod
    def from_mapping(cls, raw: Any) -> MonitoringPolicy:
        """Build a policy from plain data (parsed YAML or JSON); errors name the field."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("policy", f"must be a mapping of fields, not {type(raw).__name__}")
        unknown = sorted(set(raw) - {"model", "thresholds", "reporting", "minimum_rows"})
        if unknown:
            raise InvalidInput("policy", f"has unknown field(s) {', '.join(map(str, unknown))}")
        model = raw.get("model")
        if not isinstance(model, str):
            raise InvalidInput("model", "is required and must be text")
        thresholds_raw = raw.get("thresholds")
        if not isinstance(thresholds_raw, list):
            raise InvalidInput("thresholds", "is required and must be a list of thresholds")
        thresholds = []
        for index, item in enumerate(thresholds_raw):
            where = f"thresholds[{index}]"
            if not isinstance(item, Mapping):
                raise InvalidInput(where, "must be a mapping of fields")
            thresholds.append(Threshold.from_mapping(item, where))
        reporting_raw = raw.get("reporting")
        if not isinstance(reporting_raw, Mapping):
            raise InvalidInput("reporting", "is required: stakeholders, frequency, escalation")
        reporting = _reporting_from_mapping(reporting_raw)
        minimum = raw.get("minimum_rows", DEFAULT_MINIMUM_ROWS)
        return cls(model, tuple(thresholds), reporting, minimum)

    @classmethod
    def churn_default(cls, model: str = "churn_prediction_v2") -> MonitoringPolicy:
        """The seed's churn policy (§6.3)."""
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
class Approval:
    """A person approving a change on behalf of a team (e.g. `data_team`)."""

    team: str
    person: str

    def __post_init__(self) -> None:
        if not self.team.strip() or not self.person.strip():
            raise InvalidInput("approval", "must name a team and the person approving for it")


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


def _reporting_from_mapping(raw: Mapping[str, Any]) -> Reporting:
    unknown = sorted(set(raw) - {"stakeholders", "frequency", "escalation"})
    if unknown:
        raise InvalidInput("reporting", f"has unknown field(s) {', '.join(map(str, unknown))}")
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
    escalation = _optional_text(raw.get("escalation"), "reporting.escalation")
    return Reporting(tuple(stakeholders), frequency, escalation)
