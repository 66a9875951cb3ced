"""Evidence: an experiment result on the contract's metric, and whether it proves the contract."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lucid.contracts.names import refuse_unknown_keys
from lucid.contracts.value.direction import Direction
from lucid.contracts.value.fields import finite, text
from lucid.contracts.value.impact import BusinessImpact, GuardrailResult
from lucid.contracts.value.rule import EvidenceKind, Origin
from lucid.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm of an experiment: who it served, how many units, the metric's measured value."""

    name: str
    sample_size: int
    value: float

    def __post_init__(self) -> None:
        text(self.name, "arms.name")
        if isinstance(self.sample_size, bool) or not isinstance(self.sample_size, int):
            raise InvalidInput(f"arms.{self.name}.sample_size", "must be a whole number")
        if self.sample_size < 1:
            raise InvalidInput(
                f"arms.{self.name}.sample_size", f"must be at least 1, not {self.sample_size}"
            )
        finite(self.value, f"arms.{self.name}.value")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sample_size": self.sample_size, "value": self.value}


@dataclass(frozen=True, slots=True)
class Evidence:
    """An experiment result on a business metric, as the promotion gate reads it.

    `effect` is treatment value minus control value in the metric's unit, with its confidence
    interval [`ci_low`, `ci_high`] at `confidence` (e.g. 0.95); `p_value` is the test's
    two-sided p-value; `alpha` the significance level the experiment was designed for.
    `guardrail_values` are the treatment arm's measured guardrail metrics; the gate judges
    them against the contract, so a record cannot declare its own guardrails held. `source`
    says where it comes from (an experiment id, a notebook, a report).
    """

    metric: str
    control: Arm
    treatment: Arm
    effect: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    alpha: float
    source: str
    guardrail_values: Mapping[str, float] = field(default_factory=dict)
    test: str = "two-proportion z-test"
    kind: EvidenceKind = EvidenceKind.BUSINESS
    origin: Origin = Origin.EXTERNAL
    direction: Direction | None = None
    design: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    produced_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EvidenceKind(self.kind))
        object.__setattr__(self, "origin", Origin(self.origin))
        if self.direction is not None:
            object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "design", dict(self.design))
        object.__setattr__(self, "data", dict(self.data))
        text(self.metric, "evidence.metric")
        text(self.source, "evidence.source")
        text(self.test, "evidence.test")
        for name in ("effect", "ci_low", "ci_high", "confidence", "p_value", "alpha"):
            finite(getattr(self, name), f"evidence.{name}")
        if not self.ci_low <= self.effect <= self.ci_high:
            raise InvalidInput(
                "evidence.effect",
                f"{self.effect:g} must lie inside its confidence interval "
                f"[{self.ci_low:g}, {self.ci_high:g}]",
            )
        if not 0 <= self.p_value <= 1:
            raise InvalidInput("evidence.p_value", f"must be between 0 and 1, not {self.p_value}")
        if not 0 < self.alpha < 1:
            raise InvalidInput("evidence.alpha", f"must be between 0 and 1, not {self.alpha}")
        if not 0 < self.confidence < 1:
            raise InvalidInput(
                "evidence.confidence", f"must be between 0 and 1, not {self.confidence}"
            )
        values = {
            str(metric): finite(value, f"evidence.guardrail_values.{metric}")
            for metric, value in self.guardrail_values.items()
        }
        object.__setattr__(self, "guardrail_values", values)

    def guardrail_results(self, impact: BusinessImpact) -> list[GuardrailResult]:
        """Each of the contract's guardrails judged on this evidence's measured values."""
        return [
            GuardrailResult(guardrail, self.guardrail_values.get(guardrail.metric))
            for guardrail in impact.guardrails
        ]

    def to_dict(self) -> dict[str, Any]:
        return {**self._fields(), "digest": self.digest}

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the record's canonical JSON, every field but the digest itself:
        what the event log keeps of the data behind a decision."""
        fields = self._fields()
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def _fields(self) -> dict[str, Any]:
        """Every field as JSON-ready values, the digest aside."""
        return {
            "metric": self.metric,
            "control": self.control.to_dict(),
            "treatment": self.treatment.to_dict(),
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "source": self.source,
            "guardrail_values": dict(self.guardrail_values),
            "test": self.test,
            "kind": self.kind.value,
            "origin": self.origin.value,
            "direction": None if self.direction is None else self.direction.value,
            "design": dict(self.design),
            "data": dict(self.data),
            "produced_at": self.produced_at,
        }

    @classmethod
    def from_mapping(cls, raw: object) -> Evidence:
        """Read an evidence record as written in YAML or JSON (see `to_dict`)."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("evidence", f"must be a mapping of fields, not {raw!r}")
        refuse_unknown_keys(raw, EVIDENCE_KEYS, "evidence")
        for name in EVIDENCE_REQUIRED:
            if raw.get(name) is None:
                raise InvalidInput(f"evidence.{name}", "is required")
        guardrails = raw.get("guardrail_values") or {}
        if not isinstance(guardrails, Mapping):
            raise InvalidInput("evidence.guardrail_values", "must map metric names to values")
        return cls(
            metric=text(raw["metric"], "evidence.metric"),
            control=_arm(raw["control"], "control"),
            treatment=_arm(raw["treatment"], "treatment"),
            effect=finite(raw["effect"], "evidence.effect"),
            ci_low=finite(raw["ci_low"], "evidence.ci_low"),
            ci_high=finite(raw["ci_high"], "evidence.ci_high"),
            confidence=finite(raw["confidence"], "evidence.confidence"),
            p_value=finite(raw["p_value"], "evidence.p_value"),
            alpha=finite(raw["alpha"], "evidence.alpha"),
            source=text(raw["source"], "evidence.source"),
            guardrail_values={
                str(k): finite(v, f"evidence.guardrail_values.{k}") for k, v in guardrails.items()
            },
            test=text(raw.get("test", "two-proportion z-test"), "evidence.test"),
            kind=_choice(raw.get("kind", EvidenceKind.BUSINESS), EvidenceKind, "evidence.kind"),
            origin=_choice(raw.get("origin", Origin.EXTERNAL), Origin, "evidence.origin"),
            direction=None
            if raw.get("direction") is None
            else _choice(raw["direction"], Direction, "evidence.direction"),
            design=_mapping(raw.get("design"), "evidence.design"),
            data=_mapping(raw.get("data"), "evidence.data"),
            produced_at=None
            if raw.get("produced_at") is None
            else text(raw["produced_at"], "evidence.produced_at"),
        )


_E = TypeVar("_E", EvidenceKind, Origin, Direction)

EVIDENCE_REQUIRED = (
    "metric",
    "control",
    "treatment",
    "effect",
    "ci_low",
    "ci_high",
    "confidence",
    "p_value",
    "alpha",
    "source",
)
"""The fields an evidence record must give."""
ARM_KEYS = ("name", "sample_size", "value")
"""The fields of an evidence record's `control` and `treatment` arm."""
EVIDENCE_KEYS = frozenset(EVIDENCE_REQUIRED) | {
    "guardrail_values",
    "test",
    "kind",
    "origin",
    "direction",
    "design",
    "data",
    "produced_at",
    "digest",
}


def _choice(value: object, enum: type[_E], field: str) -> _E:
    try:
        return enum(value)  # type: ignore[arg-type]
    except ValueError:
        options = ", ".join(member.value for member in enum)
        raise InvalidInput(field, f"must be one of {options}, not {value!r}") from None


def _mapping(value: object, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(field, f"must be a mapping, not {value!r}")
    return {str(k): v for k, v in value.items()}


def _arm(raw: object, role: str) -> Arm:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"evidence.{role}", "must be a mapping with name, sample_size, value")
    refuse_unknown_keys(raw, ARM_KEYS, f"evidence.{role}")
    sample_size = raw.get("sample_size")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int):
        raise InvalidInput(
            f"evidence.{role}.sample_size", f"must be a whole number, not {sample_size!r}"
        )
    return Arm(
        name=text(raw.get("name"), f"evidence.{role}.name"),
        sample_size=sample_size,
        value=finite(raw.get("value"), f"evidence.{role}.value"),
    )
