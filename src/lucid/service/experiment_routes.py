"""The `/v1` routes of A/B experiments: every experiment, one with its design and its
analysis at this look (arms, test with its interval, sample-ratio check, decision), and the
logging of its exposures and per-entity outcomes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, FiniteFloat

from lucid.service.bodies import EntityId, Name, RequestBody
from lucid.service.dependencies import LucidDep, PrincipalDep
from lucid.service.times import UtcTime

MAX_ROWS = 10_000
"""Rows per exposures or outcomes request; larger batches go by file (`lucid experiments`)."""

router = APIRouter(prefix="/v1")


class ExperimentSummary(BaseModel):
    """An experiment's arms, status (running or concluded) and decision."""

    id: str
    model: str
    control_version: int
    challenger_version: int
    status: str
    decision: str | None
    created_at: str


@router.get("/experiments", tags=["experiments"])
def list_experiments(lucid: LucidDep, who: PrincipalDep) -> list[ExperimentSummary]:
    """Every experiment, oldest first."""
    return [ExperimentSummary.model_validate(row) for row in lucid.experiments.overview()]


@router.get("/experiments/{experiment_id}", tags=["experiments"])
def show_experiment(experiment_id: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """One experiment: its design, status and the analysis at this look — exposures and
    outcomes per arm, the test (effect, interval, p-value), the sample-ratio check and the
    decision it supports."""
    design = lucid.experiments.design(experiment_id)  # 404 for an unknown id
    summary = next(e for e in lucid.experiments.overview() if e["id"] == experiment_id)
    return {
        **ExperimentSummary.model_validate(summary).model_dump(),
        "design": design.to_dict(),
        "analysis": lucid.experiments.status(experiment_id).to_dict(),
    }


class ExposureRow(RequestBody):
    entity_id: EntityId
    arm: Literal["control", "challenger"] | None = Field(
        None, description="When given, must be the entity's hashed assignment."
    )
    version: int | None = Field(None, ge=1, description="When given, must be the arm's.")
    exposed_at: UtcTime | None = None
    covariate: FiniteFloat | None = Field(
        None, description="The entity's pre-period value of the metric's covariate (CUPED)."
    )


class ExposuresRequest(RequestBody):
    exposures: list[ExposureRow] = Field(min_length=1, max_length=MAX_ROWS)


class OutcomeRow(RequestBody):
    entity_id: EntityId
    value: FiniteFloat = Field(description="The entity's value (0/1 for a binary metric).")
    metric: Name | None = Field(None, description="Default: the experiment's metric.")
    observed_at: UtcTime | None = None


class OutcomesRequest(RequestBody):
    outcomes: list[OutcomeRow] = Field(min_length=1, max_length=MAX_ROWS)


def _rows(items: list[ExposureRow] | list[OutcomeRow]) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in item.model_dump().items() if value is not None}
        for item in items
    ]


@router.post("/experiments/{experiment_id}/exposures", tags=["experiments"], status_code=201)
def log_exposures(
    experiment_id: str, body: ExposuresRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, int]:
    """Log which entity saw which arm (and its covariate); the whole batch or nothing."""
    who.require_logging(action="logging exposures")
    return lucid.experiments.expose(experiment_id, _rows(body.exposures), actor=who.person)


@router.post("/experiments/{experiment_id}/outcomes", tags=["experiments"], status_code=201)
def log_experiment_outcomes(
    experiment_id: str, body: OutcomesRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, int]:
    """Log each exposed entity's value on the metric or a guardrail; the whole batch or
    nothing."""
    who.require_logging(action="logging experiment outcomes")
    return lucid.experiments.record_outcomes(experiment_id, _rows(body.outcomes), actor=who.person)
