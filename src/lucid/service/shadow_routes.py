"""The `/v1/shadow` routes: start a shadow comparison, log the challenger's scores of
production predictions, read its state, conclude it into predictive evidence. Reading is open
to every role; logging scores needs a role that logs (a service or a data scientist);
starting and concluding need a data scientist."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field, StringConstraints

from lucid.contracts.access import Role
from lucid.http.text_fields import ONE_LINE
from lucid.service.bodies import Name, PredictionId, Rationale, RequestBody
from lucid.service.dependencies import LucidDep, PrincipalDep

router = APIRouter(prefix="/v1")

ComparisonId = Annotated[str, StringConstraints(min_length=1, max_length=100), ONE_LINE]
Metric = Literal["auc", "log_loss", "precision_at_budget"]


def _auc() -> list[Metric]:
    return ["auc"]


class ShadowStart(RequestBody):
    id: ComparisonId = Field(description="The comparison's id, e.g. churn-v3-shadow.")
    model: Name
    challenger: int = Field(ge=1, description="The version at the challenger stage.")
    metrics: list[Metric] = Field(default_factory=_auc, min_length=1)
    minimum_pairs: int = Field(200, ge=20, description="Matured pairs needed to conclude.")
    budget_share: float = Field(
        0.05, gt=0, le=1, description="Share of rows the action budget reaches."
    )
    rationale: Rationale


class ShadowScore(RequestBody):
    prediction_id: PredictionId = Field(description="The production prediction it shadows.")
    score: float = Field(ge=0, le=1, description="The challenger's P(label = 1).")


class ShadowScores(RequestBody):
    scores: list[ShadowScore] = Field(min_length=1)


class ShadowConclusion(RequestBody):
    rationale: Rationale


@router.post("/shadow", tags=["experiments"], status_code=201)
def start_shadow(body: ShadowStart, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Start scoring a challenger in production's shadow; its design (control: the production
    version, or null for "no model")."""
    who.require(Role.SCIENTIST, action=f"starting a shadow comparison of {body.model}")
    design = lucid.shadow.start(
        body.id,
        model=body.model,
        challenger=body.challenger,
        actor=who.person,
        rationale=body.rationale,
        metrics=tuple(body.metrics),
        minimum_pairs=body.minimum_pairs,
        budget_share=body.budget_share,
    )
    return design.to_dict()


@router.post("/shadow/{comparison_id}/scores", tags=["experiments"])
def log_shadow_scores(
    comparison_id: str, body: ShadowScores, lucid: LucidDep, who: PrincipalDep
) -> dict[str, int]:
    """The challenger's scores of production predictions (the batch path); an unknown id or
    one not of the production version refuses the batch."""
    who.require_logging(action="logging shadow scores")
    rows = [score.model_dump() for score in body.scores]
    return {"logged": lucid.shadow.log(comparison_id, rows, actor=who.person)}


@router.get("/shadow/{comparison_id}", tags=["experiments"])
def show_shadow(comparison_id: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Pairs logged and matured (positives, negatives), whether it can conclude and why not,
    and each metric's paired estimate so far."""
    return lucid.shadow.status(comparison_id)


@router.post("/shadow/{comparison_id}/conclude", tags=["experiments"])
def conclude_shadow(
    comparison_id: str, body: ShadowConclusion, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Conclude once outcomes matured: one predictive evidence record per metric, attached to
    the challenger (409 before)."""
    who.require(Role.SCIENTIST, action=f"concluding the shadow comparison {comparison_id}")
    evidence = lucid.shadow.conclude(comparison_id, actor=who.person, rationale=body.rationale)
    return {"evidence": [record.to_dict() for record in evidence]}
