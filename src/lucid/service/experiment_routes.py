"""The `/v1` routes of A/B experiments: every experiment, and one with its design and its
analysis at this look (arms, test with its interval, sample-ratio check, decision)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from lucid.service.dependencies import LucidDep, PrincipalDep

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
