"""An incident as stored: its status, level, root cause and what people wrote about it.

Pure: times are canonical UTC texts (`lucid.contracts.events.format_time`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MIN_PROPOSALS = 2
MAX_PROPOSALS = 3
LEVELS = ("warning", "critical")
"""The levels an incident may have (those of the monitoring run that opened it)."""


class IncidentStatus(StrEnum):
    """Where an incident is in the loop."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DIAGNOSED = "diagnosed"
    PROPOSED = "proposed"
    EXPERIMENTING = "experimenting"
    CLOSED = "closed"


class RootCause(StrEnum):
    """The controlled list of root-cause categories (free text goes in the diagnosis)."""

    DATA_DRIFT = "data_drift"
    CONCEPT_DRIFT = "concept_drift"
    DATA_QUALITY = "data_quality"
    PIPELINE_FAILURE = "pipeline_failure"
    DEFINITION_CHANGE = "definition_change"
    UPSTREAM_CHANGE = "upstream_change"
    MODEL_DECAY = "model_decay"


ROOT_CAUSES: Mapping[RootCause, str] = {
    RootCause.DATA_DRIFT: "the inputs' distribution moved (new behaviour, new segment)",
    RootCause.CONCEPT_DRIFT: "the link between inputs and outcome changed",
    RootCause.DATA_QUALITY: "missing, wrong or duplicated values in the inputs",
    RootCause.PIPELINE_FAILURE: "a job computing, moving or serving data or predictions failed",
    RootCause.DEFINITION_CHANGE: "a feature or business metric changed meaning",
    RootCause.UPSTREAM_CHANGE: "a system or team upstream changed what it sends",
    RootCause.MODEL_DECAY: "the model aged without a single identifiable shift",
}


@dataclass(frozen=True, slots=True)
class RepeatedOf:
    """The earlier incident whose root cause came back, and the lesson it left."""

    incident_id: str
    lesson: str

    def to_dict(self) -> dict[str, str]:
        return {"incident_id": self.incident_id, "lesson": self.lesson}


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as stored: `opened_at` is the detection time, `window_start` the start of
    the window where monitoring saw the problem (the opening time for one opened by hand)."""

    id: str
    model: str
    status: IncidentStatus
    level: str
    opened_at: str
    window_start: str
    last_run_id: str | None = None
    recovered_at: str | None = None
    summary: str | None = None
    opened_by: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    root_cause: RootCause | None = None
    diagnosis: str | None = None
    participants: tuple[str, ...] = ()
    proposals: tuple[str, ...] = ()
    experiment_id: str | None = None
    resolution: str | None = None
    lesson: str | None = None
    closed_at: str | None = None
    repeated_of: RepeatedOf | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "status": self.status.value,
            "level": self.level,
            "opened_at": self.opened_at,
            "window_start": self.window_start,
            "last_run_id": self.last_run_id,
            "recovered_at": self.recovered_at,
            "summary": self.summary,
            "opened_by": self.opened_by,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "root_cause": None if self.root_cause is None else self.root_cause.value,
            "diagnosis": self.diagnosis,
            "participants": list(self.participants),
            "proposals": list(self.proposals),
            "experiment_id": self.experiment_id,
            "resolution": self.resolution,
            "lesson": self.lesson,
            "closed_at": self.closed_at,
            "repeated_of": None if self.repeated_of is None else self.repeated_of.to_dict(),
        }
