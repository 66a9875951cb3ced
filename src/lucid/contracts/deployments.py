"""Deployments as decisions: what a production release is expected to do, and when to check.

A deployment keeps its assumptions (the seed's `ModelDeployedEvent`): hypotheses (what should
happen, by how much, in which unit), success criteria (a metric, its baseline, its target and
which direction is better) and validation checkpoints (30, 90 and 180 days after deployment by
default). At each due checkpoint the criteria are judged on the newest observation of each
metric made up to that moment; a hypothesis that failed asks for a lesson. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lucid.contracts.events import DomainEvent, event_type
from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.value.direction import Direction
from lucid.contracts.value.fields import finite, text
from lucid.contracts.value.impact import BusinessImpact
from lucid.errors import InvalidInput

DEFAULT_CHECKPOINT_DAYS = (30, 90, 180)


DECISION_KEYS = ("hypotheses", "success_criteria", "checkpoints")
"""The fields of a deployment decision file (`lucid deploy --decision`)."""
HYPOTHESIS_KEYS = ("description", "expected_impact", "unit")
"""The fields of one hypothesis (or the hypothesis as a plain text)."""
CRITERION_KEYS = ("name", "baseline", "target", "direction")
"""The fields of one success criterion."""


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """What the deployment should cause: e.g. "churn falls", -0.02, "rate" (unit optional)."""

    description: str
    expected_impact: float | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", text(self.description, "hypotheses.description"))
        if self.expected_impact is not None:
            finite(self.expected_impact, "hypotheses.expected_impact")
        if self.unit is not None:
            object.__setattr__(self, "unit", text(self.unit, "hypotheses.unit"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "expected_impact": self.expected_impact,
            "unit": self.unit,
        }

    @classmethod
    def from_mapping(cls, raw: object) -> Hypothesis:
        if isinstance(raw, str):
            return cls(raw)
        if not isinstance(raw, Mapping):
            raise InvalidInput("hypotheses", f"each hypothesis must be a mapping, not {raw!r}")
        refuse_unknown_keys(raw, HYPOTHESIS_KEYS, "hypotheses")
        impact = raw.get("expected_impact")
        return cls(
            text(raw.get("description"), "hypotheses.description"),
            None if impact is None else finite(impact, "hypotheses.expected_impact"),
            raw.get("unit"),
        )


@dataclass(frozen=True, slots=True)
class SuccessCriterion:
    """A metric that must reach `target` from `baseline`, `direction` saying which is better."""

    name: str
    baseline: float
    target: float
    direction: Direction = Direction.HIGHER

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", text(self.name, "success_criteria.name"))
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise InvalidInput(
                f"success_criteria.{self.name}.direction",
                f"must be 'higher' or 'lower' (is better), not {self.direction!r}",
            ) from None
        finite(self.baseline, f"success_criteria.{self.name}.baseline")
        finite(self.target, f"success_criteria.{self.name}.target")
        if not self.direction.better(self.target, self.baseline):
            raise InvalidInput(
                f"success_criteria.{self.name}.target",
                f"{self.target:g} must be better than the baseline {self.baseline:g} "
                f"({self.direction.value} is better)",
            )

    def met(self, value: float) -> bool:
        return self.direction.at_least_as_good(value, self.target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseline": self.baseline,
            "target": self.target,
            "direction": self.direction.value,
        }

    @classmethod
    def from_mapping(cls, raw: object) -> SuccessCriterion:
        if not isinstance(raw, Mapping):
            raise InvalidInput("success_criteria", f"each criterion must be a mapping, not {raw!r}")
        refuse_unknown_keys(raw, CRITERION_KEYS, "success_criteria")
        name = text(raw.get("name"), "success_criteria.name")
        return cls(
            name,
            finite(raw.get("baseline"), f"success_criteria.{name}.baseline"),
            finite(raw.get("target"), f"success_criteria.{name}.target"),
            raw.get("direction", Direction.HIGHER.value),
        )

    @classmethod
    def of_contract(cls, impact: BusinessImpact) -> SuccessCriterion:
        """The contract's own metric as a criterion: baseline → target."""
        return cls(impact.metric, impact.baseline, impact.target, impact.direction)


_LONGEST_DAYS = 36_500
"""A checkpoint at most a hundred years after its deployment."""


def checkpoint_days(days: Sequence[int] | None) -> tuple[int, ...]:
    """Checkpoint offsets in whole days after deployment, distinct and increasing."""
    chosen = tuple(DEFAULT_CHECKPOINT_DAYS if days is None else days)
    if not chosen:
        raise InvalidInput("checkpoints", "a deployment needs at least one checkpoint")
    for day in chosen:
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= _LONGEST_DAYS:
            raise InvalidInput(
                "checkpoints",
                f"each must be a whole number of days from 1 to {_LONGEST_DAYS}, not {day!r}",
            )
    if list(chosen) != sorted(set(chosen)):
        raise InvalidInput("checkpoints", f"must be distinct and increasing, not {list(chosen)}")
    return chosen


def checkpoint_times(deployed_at: datetime, days: Sequence[int]) -> list[datetime]:
    """When each checkpoint falls due."""
    return [deployed_at + timedelta(days=day) for day in days]


class CriterionOutcome(StrEnum):
    MET = "met"
    MISSED = "missed"
    UNMEASURED = "unmeasured"


class CheckpointOutcome(StrEnum):
    """`held` when every criterion is met, `failed` when one is missed, else `inconclusive`."""

    HELD = "held"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class CriterionVerdict:
    criterion: SuccessCriterion
    value: float | None

    @property
    def outcome(self) -> CriterionOutcome:
        if self.value is None:
            return CriterionOutcome.UNMEASURED
        return CriterionOutcome.MET if self.criterion.met(self.value) else CriterionOutcome.MISSED

    def to_dict(self) -> dict[str, Any]:
        return {**self.criterion.to_dict(), "value": self.value, "outcome": self.outcome.value}


@dataclass(frozen=True, slots=True)
class CheckpointVerdict:
    """Every criterion judged at one checkpoint; a failed one asks for a lesson."""

    criteria: tuple[CriterionVerdict, ...]

    @property
    def outcome(self) -> CheckpointOutcome:
        outcomes = {verdict.outcome for verdict in self.criteria}
        if CriterionOutcome.MISSED in outcomes:
            return CheckpointOutcome.FAILED
        if outcomes == {CriterionOutcome.MET}:
            return CheckpointOutcome.HELD
        return CheckpointOutcome.INCONCLUSIVE

    @property
    def lesson_requested(self) -> bool:
        return self.outcome is CheckpointOutcome.FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "lesson_requested": self.lesson_requested,
            "criteria": [verdict.to_dict() for verdict in self.criteria],
        }


def evaluate_checkpoint(
    criteria: Sequence[SuccessCriterion], latest: Mapping[str, float]
) -> CheckpointVerdict:
    """Judge each criterion on `latest` (metric → newest value observed up to the checkpoint)."""
    return CheckpointVerdict(tuple(CriterionVerdict(c, latest.get(c.name)) for c in criteria))


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a deployment; `outcome`/`verdict` stay None until it is judged."""

    deployment_id: int
    name: str
    version: int
    days: int
    due_at: str
    evaluated_at: str | None
    outcome: str | None
    verdict: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "model": self.name,
            "version": self.version,
            "days": self.days,
            "due_at": self.due_at,
            "evaluated_at": self.evaluated_at,
            "outcome": self.outcome,
            "verdict": self.verdict,
        }


# -- events ---------------------------------------------------------------------------------


@event_type("ModelDeployed")
@dataclass(frozen=True)
class ModelDeployed(DomainEvent):
    """A version entered production as a decision: its hypotheses, criteria and checkpoints.

    `checkpoints` are canonical UTC times; `artifact` says what was deployed (a file, an
    MLflow URI or a Hugging Face Hub id, the seed's `huggingFaceModel`).
    """

    name: str
    version: int
    deployment_id: int
    artifact: dict[str, Any]
    hypotheses: list[dict[str, Any]]
    success_criteria: list[dict[str, Any]]
    checkpoints: list[str]
    deployed_by: str


@event_type("CheckpointEvaluated")
@dataclass(frozen=True)
class CheckpointEvaluated(DomainEvent):
    """A due checkpoint of a deployment was judged: the verdict per criterion."""

    name: str
    version: int
    deployment_id: int
    due_at: str
    days: int
    outcome: str
    criteria: list[dict[str, Any]]


@event_type("LessonRequested")
@dataclass(frozen=True)
class LessonRequested(DomainEvent):
    """A deployment's hypothesis failed at a checkpoint: someone must write what was learnt."""

    name: str
    version: int
    deployment_id: int
    due_at: str
    missed: list[str]
