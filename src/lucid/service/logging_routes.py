"""The `/v1` route a system serving a model itself (a version registered as served elsewhere)
logs its predictions with, as `lucid monitor predictions` does; outcomes follow through
`POST /v1/outcomes`. Monitoring, the gate's evidence and the loop read them as they read
Lucid's own."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, FiniteFloat, StrictBool, StrictStr

from lucid.monitoring.predictions import prediction_rows
from lucid.service.bodies import EntityId, Name, RequestBody
from lucid.service.dependencies import LucidDep, PrincipalDep
from lucid.service.times import UtcTime

MAX_ROWS = 10_000
"""Predictions per request; larger batches go by file (`lucid monitor predictions`)."""

router = APIRouter(prefix="/v1")

InputValue = StrictBool | FiniteFloat | StrictStr | None
"""The value a model used: a number, text, a boolean or null."""


class LoggedPrediction(RequestBody):
    entity_id: EntityId
    version: int = Field(ge=1, description="The registered version that predicted.")
    served_at: UtcTime
    score: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        description="P(label = 1), what monitoring and the outcomes' join read."
    )
    inputs: dict[Name, InputValue] = Field(
        default_factory=dict, description="The values the model used, by input name."
    )
    arm: Name | None = Field(None, description="The experiment arm that served it, if any.")


class PredictionsRequest(RequestBody):
    predictions: list[LoggedPrediction] = Field(min_length=1, max_length=MAX_ROWS)


@router.post("/predictions/{model}", tags=["serving"], status_code=201)
def log_predictions(
    model: str, body: PredictionsRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Log predictions made elsewhere (a version served by the team's own system); the
    whole batch is checked, each version must be registered, before any of it is stored.
    Answers the ids outcomes may name, in the order given."""
    who.require_logging(action=f"logging predictions of {model}")
    by_version: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for index, row in enumerate(body.predictions):
        logged = {
            "entity": row.entity_id,
            "served_at": row.served_at,
            "score": row.score,
            "features": row.inputs,
        }
        if row.arm is not None:
            logged["arm"] = row.arm
        by_version[row.version].append((index, logged))
    for version, rows in by_version.items():  # every row checked before any is stored
        lucid.registry.get_version(model, version)  # a version not registered: 404
        prediction_rows(model, version, [r for _, r in rows])
    ids: list[str] = [""] * len(body.predictions)
    for version, rows in by_version.items():
        # The ids are generated (none can be taken already) and every row was checked above.
        logged_ids = lucid.monitoring.log_predictions(model, version, [r for _, r in rows])
        for (index, _), prediction_id in zip(rows, logged_ids, strict=True):
            ids[index] = prediction_id
    return {"model": model, "logged": len(ids), "prediction_ids": ids}
