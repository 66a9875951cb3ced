"""The `/v1` routes: read what every stakeholder may see; write the governance steps each role
may take. Each route calls the same use case as the SDK and the CLI; errors become problem
details in `lucid.service.problems`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, FiniteFloat, StringConstraints

from lucid.contracts.access import Role
from lucid.contracts.value import Override, Stage, read_external_evidence
from lucid.errors import InvalidInput
from lucid.http.text_fields import ONE_LINE, Line
from lucid.service.bodies import (
    EntityId,
    FeatureReference,
    Name,
    PredictionId,
    Rationale,
    RequestBody,
)
from lucid.service.dependencies import BearerDep, LucidDep, PrincipalDep, bearer_token
from lucid.service.prediction_route import BatchRequest, PredictionRequest, count, predicted
from lucid.service.predictor import Predictor
from lucid.service.times import UtcTime

router = APIRouter(prefix="/v1")


# --- events ------------------------------------------------------------------------------


@router.get("/events", tags=["memory"])
def list_events(
    lucid: LucidDep,
    who: PrincipalDep,
    after: int = Query(0, ge=0, le=2**63 - 1, description="Cursor: events after this position."),
    limit: int = Query(100, ge=1, le=1000),
    type: str | None = None,
    subject: str | None = None,
) -> dict[str, Any]:
    """Events oldest first, with the cursor of the next page (null on the last one)."""
    page = lucid.events.read(after=after, limit=limit, type=type, subject=subject)
    next_cursor = page[-1].seq if len(page) == limit else None
    return {"events": [event.to_dict() for event in page], "next_cursor": next_cursor}


@router.get("/events/verify", tags=["memory"])
def verify_events(lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Recompute every hash and link of the event chain, compare the state tables with it and
    rehash every prediction log segment."""
    return lucid.anchor.verify().to_dict()


# --- features ----------------------------------------------------------------------------


def _governed(governed: Any) -> dict[str, Any]:
    return {
        **governed.definition.to_dict(),
        "status": governed.status.value,
        "fingerprint": governed.definition.fingerprint,
        "proposed_by": governed.proposed_by,
        "approvals": [{"team": a.team, "person": a.person} for a in governed.approvals],
        "missing_teams": list(governed.missing_teams),
    }


@router.get("/features", tags=["features"])
def list_features(lucid: LucidDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """Every stored definition with its status and approvals."""
    return [_governed(governed) for governed in lucid.features.definitions()]


@router.get("/features/audit", tags=["features"])
def audit_features(lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Contradictions: same concept, different computation, field by field."""
    return lucid.features.audit().to_dict()


@router.get("/features/{reference}", tags=["features"])
def show_feature(reference: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """One definition: `name@version`, or `name` for its canonical version."""
    return _governed(lucid.features.get(reference))


class ApprovalRequest(RequestBody):
    team: Name = Field(description="The team this approval speaks for.")
    rationale: Rationale


@router.post("/features/{reference}/approvals", tags=["features"], status_code=201)
def approve_feature(
    reference: str, body: ApprovalRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Approve for one team; the approver is the token's person (never the proposer)."""
    who.require(Role.APPROVER, team=body.team, action=f"approving {reference} for {body.team}")
    governed = lucid.features.approve(
        reference, team=body.team, person=who.person, rationale=body.rationale
    )
    return _governed(governed)


class OnlineRequest(RequestBody):
    entity_ids: list[EntityId] = Field(min_length=1)
    features: list[FeatureReference] = Field(
        min_length=1, description="Pinned versions, name@version."
    )
    log: bool = Field(False, description="Log the served values (scientist or service role).")


@router.post("/features/online", tags=["features"])
def online_features(body: OnlineRequest, lucid: LucidDep, who: PrincipalDep) -> list[Any]:
    """Serve pinned features from the online store; stale values come back missing."""
    if body.log:
        who.require_logging(action="logging served values")
    served = lucid.features.get_online_features(body.entity_ids, body.features, log=body.log)
    return [{ref: value.to_dict() for ref, value in row.items()} for row in served]


# --- models ------------------------------------------------------------------------------


@router.get("/models", tags=["models"])
def list_models(lucid: LucidDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """Every model with its production version and freeze."""
    return [summary.to_dict() for summary in lucid.registry.list_models()]


@router.get("/models/{name}", tags=["models"])
def show_model(name: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Every version of a model with its contract, stage and evidence."""
    versions = lucid.registry.versions(name)
    if not versions:
        lucid.registry.get_version(name)  # raises the not-found sentence
    return {"name": name, "versions": [version.to_dict() for version in versions]}


@router.get("/models/{name}/history", tags=["models"])
def model_history(name: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Which version served production when, and why it changed (from the event log)."""
    return lucid.registry.history(name).to_dict()


VersionNumber = Annotated[int, FastPath(ge=1, le=2**31 - 1, description="The version number.")]


class ObservationView(BaseModel):
    """A business metric measured for a version over a period (in the metric's unit)."""

    version: int
    metric: str
    value: float
    period: str
    observed_at: str


def _observations(lucid: Any, name: str, version: int | None) -> list[ObservationView]:
    return [
        ObservationView(
            version=o.version,
            metric=o.metric,
            value=o.value,
            period=o.period,
            observed_at=o.observed_at,
        )
        for o in lucid.registry.observations(name, version)
    ]


@router.get("/models/{name}/versions/{version}", tags=["models"])
def show_model_version(
    name: str, version: VersionNumber, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """One version: its artifact, pinned features, business-impact contract, stage and
    evidence, every business observation and every evaluation against the contract."""
    found = lucid.registry.get_version(name, version)
    return {
        **found.to_dict(),
        "observations": [o.model_dump() for o in _observations(lucid, name, version)],
        "evaluations": lucid.registry.evaluations(name, version),
    }


@router.get("/models/{name}/observations", tags=["models"])
def model_observations(
    name: str,
    lucid: LucidDep,
    who: PrincipalDep,
    version: int | None = Query(None, ge=1, le=2**31 - 1, description="Only this version."),
) -> list[ObservationView]:
    """Business metrics observed for the model's versions, oldest first."""
    lucid.registry.get_version(name, version)  # the not-found sentence
    return _observations(lucid, name, version)


class PromotionRequest(RequestBody):
    to: Line = Field(description="challenger or production")
    rationale: Rationale
    override: bool = Field(False, description="Override the evidence requirement (approvers).")


@router.post("/models/{name}/versions/{version}/promotions", tags=["models"], status_code=201)
def promote_model(
    name: str, version: VersionNumber, body: PromotionRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Move a version up through the promotion gate, as the token's person."""
    wanted = Stage(body.to) if body.to in {s.value for s in Stage} else None
    if wanted is None:
        raise InvalidInput("to", f"{body.to!r} must be challenger or production")
    needed = Role.APPROVER if wanted is Stage.PRODUCTION or body.override else Role.SCIENTIST
    who.require(needed, action=f"promoting {name}@{version} to {wanted.value}")
    override = Override(who.person, body.rationale) if body.override else None
    promoted = lucid.registry.promote(
        name, version, wanted, actor=who.person, rationale=body.rationale, override=override
    )
    return promoted.to_dict()


class EvidenceRequest(RequestBody):
    evidence: dict[str, Any] = Field(
        description="An evidence record from an experiment run outside Lucid (docs/evidence.md)."
    )
    rationale: Rationale


@router.post("/models/{name}/versions/{version}/evidence", tags=["models"], status_code=201)
def attach_model_evidence(
    name: str, version: VersionNumber, body: EvidenceRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Attach external evidence to a version for the promotion gate, as the token's person:
    checked against the schema (every problem in one answer), marked external."""
    who.require(Role.SCIENTIST, action=f"attaching evidence to {name}@{version}")
    record = read_external_evidence(body.evidence)
    attached = lucid.registry.attach_evidence(
        name, version, record, actor=who.person, rationale=body.rationale
    )
    return attached.to_dict()


class FreezeRequest(RequestBody):
    reason: Rationale


@router.post("/models/{name}/freeze", tags=["models"], status_code=201)
def freeze_model(
    name: str, body: FreezeRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Block every promotion of the model until it is unfrozen."""
    who.require(Role.APPROVER, action=f"freezing {name}")
    lucid.registry.freeze(name, reason=body.reason, actor=who.person, source="http")
    return {"name": name, "frozen": True, "reason": body.reason}


# --- predictions -------------------------------------------------------------------------


class EntityPrediction(BaseModel):
    entity_id: str
    version: int = Field(description="The version that predicted.")
    arm: str = Field(description="production, or the experiment arm (control, challenger).")
    inputs: dict[str, Any] = Field(
        description="The values the model was given: its pinned features by name and the "
        "request-time inputs."
    )
    prediction: Any = Field(description="What the model predicted (a class for a classifier).")
    score: float | None = Field(description="P(label = 1) when the model gives probabilities.")
    prediction_id: str = Field(description="The logged prediction: outcomes may name it.")


class PredictionAnswer(EntityPrediction):
    model: str


class BatchAnswer(BaseModel):
    model: str
    predictions: list[EntityPrediction] = Field(description="One per entity, in request order.")


@router.post("/predict/{model}", tags=["serving"], response_model=PredictionAnswer | BatchAnswer)
async def predict(
    model: str, body: PredictionRequest | BatchRequest, request: Request, credentials: BearerDep
) -> Response:
    """Predict for one entity (`entity_id`) or a batch (`entities`, 1 to `max_predict_batch`,
    1,000 by default) — each with the arm a running experiment assigns it (exposure logged),
    else with the production version — its features read online at the versions the model
    pinned, and its request-time `inputs` checked against the version's declarations before
    anything is logged (one bad value refuses the whole request, naming it). The answer
    comes once the predictions, their inputs and the served values are logged."""
    # `lucid.service.prediction_route` answers this route before FastAPI's routing (the hot
    # path); this declaration gives the OpenAPI document, and answers the same way if reached.
    predictor: Predictor = request.app.state.predictor
    answer = await predicted(predictor, model, body, bearer_token(credentials))
    count(request.app.state.metrics, model, answer)
    return JSONResponse(answer)


class Outcome(RequestBody):
    label: int = Field(ge=0, le=1, description="The observed outcome, 0 or 1.")
    observed_at: UtcTime
    prediction_id: PredictionId | None = None
    entity: EntityId | None = None
    metrics: dict[Name, FiniteFloat] | None = Field(
        None,
        max_length=20,
        description="Business metric values of the entity (name → number): for a prediction "
        "served in an arm of the model's running experiment, its experiment outcomes.",
    )


class OutcomesRequest(RequestBody):
    model: Name
    outcomes: list[Outcome] = Field(min_length=1, max_length=10_000)


@router.post("/outcomes", tags=["serving"])
def log_outcomes(body: OutcomesRequest, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Ground truth arriving late, joined to its predictions (by id, else by entity)."""
    who.require_logging(action="logging outcomes")
    rows = [
        {key: value for key, value in outcome.model_dump().items() if value is not None}
        for outcome in body.outcomes
    ]
    return lucid.monitoring.log_outcomes(body.model, rows, actor=who.person).to_dict()


# --- subscriptions -----------------------------------------------------------------------


class SubscriptionRequest(RequestBody):
    url: Annotated[str, StringConstraints(min_length=1), ONE_LINE]
    event_types: list[Name] = Field(default_factory=list, description="Empty: every type.")
    rationale: Rationale


@router.post("/subscriptions", tags=["memory"], status_code=201)
def add_subscription(
    body: SubscriptionRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Subscribe a URL to events (admins); the answer holds the signing secret, once."""
    who.require(Role.ADMIN, action="adding an event subscription")
    subscription_id, secret = lucid.subscriptions.add(
        body.url, event_types=body.event_types, actor=who.person, rationale=body.rationale
    )
    return {
        "id": subscription_id,
        "url": body.url,
        "event_types": body.event_types,
        "secret": secret,
    }


@router.get("/subscriptions", tags=["memory"])
def list_subscriptions(lucid: LucidDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """Subscriptions and their cursors (admins)."""
    who.require(Role.ADMIN, action="listing event subscriptions")
    return lucid.subscriptions.entries()
