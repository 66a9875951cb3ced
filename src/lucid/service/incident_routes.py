"""The `/v1` routes of the memory's incidents and the scorecard: read by every role; opened,
diagnosed and closed by data scientists, as the token's person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, StringConstraints

from lucid.contracts.access import Role
from lucid.http.text_fields import ONE_LINE, Line, Prose
from lucid.service.bodies import Name, RequestBody
from lucid.service.dependencies import LucidDep, PrincipalDep

router = APIRouter(prefix="/v1")


@router.get("/incidents", tags=["memory"])
def list_incidents(
    lucid: LucidDep,
    who: PrincipalDep,
    model: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Incidents oldest first, of one model and/or in one status."""
    return [i.to_dict() for i in lucid.incidents.list(model, status)]


class IncidentRequest(RequestBody):
    model: Name
    summary: Prose
    level: Line = Field("warning", description="warning or critical")


@router.post("/incidents", tags=["memory"], status_code=201)
def open_incident(body: IncidentRequest, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Open an incident by hand (monitoring opens its own), as the token's person."""
    who.require(Role.SCIENTIST, action=f"opening an incident on {body.model}")
    return lucid.incidents.open(
        body.model, summary=body.summary, level=body.level, actor=who.person
    ).to_dict()


@router.get("/incidents/{incident_id}", tags=["memory"])
def show_incident(incident_id: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """One incident with its diagnosis, proposals, experiment, lesson and repeated-error link."""
    return lucid.incidents.get(incident_id).to_dict()


@router.post("/incidents/{incident_id}/ack", tags=["memory"])
def acknowledge_incident(incident_id: str, lucid: LucidDep, who: PrincipalDep) -> dict[str, Any]:
    """Take an open incident in hand, as the token's person (scientists and above)."""
    who.require(Role.SCIENTIST, action=f"acknowledging incident {incident_id}")
    return lucid.incidents.acknowledge(incident_id, actor=who.person).to_dict()


class DiagnosisRequest(RequestBody):
    root_cause: Annotated[str, StringConstraints(max_length=40), ONE_LINE] = Field(
        description="A category of the controlled list, e.g. data_drift."
    )
    details: Prose
    participants: list[Line] = Field(description="Teams or people who took part (at least one).")


@router.post("/incidents/{incident_id}/diagnosis", tags=["memory"])
def diagnose_incident(
    incident_id: str, body: DiagnosisRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Record the shared diagnosis; a root cause seen before is flagged as a repeated error."""
    who.require(Role.SCIENTIST, action=f"diagnosing incident {incident_id}")
    return lucid.incidents.diagnose(
        incident_id,
        root_cause=body.root_cause,
        details=body.details,
        participants=body.participants,
        actor=who.person,
    ).to_dict()


class ProposalsRequest(RequestBody):
    proposals: list[Prose] = Field(description="2 or 3 testable hypotheses.")


@router.post("/incidents/{incident_id}/proposals", tags=["memory"])
def propose_for_incident(
    incident_id: str, body: ProposalsRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Record 2 or 3 testable proposals."""
    who.require(Role.SCIENTIST, action=f"proposing fixes for incident {incident_id}")
    return lucid.incidents.propose(incident_id, body.proposals, actor=who.person).to_dict()


class ExperimentLinkRequest(RequestBody):
    experiment_id: Name


@router.post("/incidents/{incident_id}/experiment", tags=["memory"])
def link_incident_experiment(
    incident_id: str, body: ExperimentLinkRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Tie the A/B experiment testing the proposals (it must test the incident's model)."""
    who.require(Role.SCIENTIST, action=f"linking an experiment to incident {incident_id}")
    return lucid.incidents.link_experiment(
        incident_id, body.experiment_id, actor=who.person
    ).to_dict()


class LessonRequest(RequestBody):
    lesson: Prose


@router.post("/incidents/{incident_id}/lesson", tags=["memory"])
def record_incident_lesson(
    incident_id: str, body: LessonRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Write (or rewrite, until it closes) what was learnt."""
    who.require(Role.SCIENTIST, action=f"recording the lesson of incident {incident_id}")
    return lucid.incidents.record_lesson(incident_id, body.lesson, actor=who.person).to_dict()


class ResolutionRequest(RequestBody):
    resolution: Prose


@router.post("/incidents/{incident_id}/resolve", tags=["memory"])
def resolve_incident(
    incident_id: str, body: ResolutionRequest, lucid: LucidDep, who: PrincipalDep
) -> dict[str, Any]:
    """Close the incident; refused (409) while it has no lesson."""
    who.require(Role.SCIENTIST, action=f"resolving incident {incident_id}")
    return lucid.incidents.resolve(
        incident_id, resolution=body.resolution, actor=who.person
    ).to_dict()


@router.get("/scorecard", tags=["memory"])
def scorecard(lucid: LucidDep, who: PrincipalDep, period: str = "month") -> dict[str, Any]:
    """The seed's scorecard measured now (null: nothing to measure yet), with
    `override_shares`: each model's production promotions per `period` (month, quarter or
    year) by evidence and by override."""
    shares = lucid.registry.override_shares(period)
    return {**lucid.loop.scorecard().to_dict(), "override_shares": shares.to_dict()}
