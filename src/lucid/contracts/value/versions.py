"""A model version as the registry stores it, its artifact's reference, and what is observed
of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lucid.contracts.value.evidence import Evidence
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.value.request_inputs import RequestInput
from lucid.contracts.value.stages import Stage


class ArtifactKind(StrEnum):
    """What a version's artifact is. `external`: a version served by the team's own system,
    which logs its predictions and outcomes to Lucid; Lucid holds no model for it."""

    SKLEARN = "sklearn"
    ONNX = "onnx"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    MLFLOW = "mlflow"
    HUGGINGFACE = "huggingface"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """What a version stores about its artifact: kind, location (a store key, a folder or a
    Hub id) and SHA-256 (hex) where Lucid holds the bytes."""

    kind: ArtifactKind
    location: str
    sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "location": self.location, "sha256": self.sha256}


@dataclass(frozen=True)
class ModelVersion:
    """A registered version as stored: its artifact, pins, contract, evidence and stage.
    `inputs` are the model's input names (pinned features by name and request-time inputs)
    in the order it takes them, None for a model that stated no signature (it takes the pins
    in their order, then the request-time inputs in theirs). `request_inputs` are the values
    each request gives (`lucid.contracts.value.request_inputs`). `evidence` holds at most one
    record per kind and metric, in the order attached."""

    name: str
    version: int
    stage: Stage
    artifact: ArtifactRef
    features: tuple[str, ...]
    inputs: tuple[str, ...] | None
    training_data: str
    offline_metrics: Mapping[str, float]
    impact: BusinessImpact
    evidence: tuple[Evidence, ...]
    registered_by: str
    registered_at: str
    rationale: str
    rolled_back: bool
    request_inputs: tuple[RequestInput, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def evidence_with(self, record: Evidence) -> tuple[Evidence, ...]:
        """The version's evidence once `record` is attached: it replaces the earlier record
        of the same kind and metric."""
        kept = tuple(e for e in self.evidence if (e.kind, e.metric) != (record.kind, record.metric))
        return (*kept, record)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage.value,
            "artifact": self.artifact.to_dict(),
            "features": list(self.features),
            "inputs": None if self.inputs is None else list(self.inputs),
            "training_data": self.training_data,
            "offline_metrics": dict(self.offline_metrics),
            "impact": self.impact.to_dict(),
            "evidence": [record.to_dict() for record in self.evidence],
            "registered_by": self.registered_by,
            "registered_at": self.registered_at,
            "rationale": self.rationale,
            "rolled_back": self.rolled_back,
            "request_inputs": [spec.to_dict() for spec in self.request_inputs],
        }


@dataclass(frozen=True)
class ModelSummary:
    """One registered model: its versions, what serves production, whether it is frozen."""

    name: str
    versions: int
    production: int | None
    frozen_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": self.versions,
            "production": self.production,
            "frozen": self.frozen_reason is not None,
            "frozen_reason": self.frozen_reason,
        }


@dataclass(frozen=True)
class Observation:
    """A business metric measured for a version over a period (in the metric's unit)."""

    name: str
    version: int
    metric: str
    value: float
    period: str
    observed_at: str
