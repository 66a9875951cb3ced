"""The dashboard's routes: pages every role reads, and the writes each role may make.

Signing in with an API token starts a server-side session (`lucid.access.sessions`): the
cookie carries only the random session id — HttpOnly, SameSite=Strict, path /dashboard, and
`Secure` when the request came over HTTPS (directly, or through a proxy `lucid serve` trusts).
Signing out ends the session on the server, so a captured cookie stops working. Every form is
a POST protected twice against cross-site requests: the browser must not send a foreign
`Origin`, and the form must carry the session's CSRF token, which a form of another session
does not match. Writes check the role on the server (a form hidden from a role is also
refused to it) and call the same use cases as the SDK and the HTTP API, as the token's
person, so the four-eyes rules hold; a refusal is shown as the domain's sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lucid.bootstrap import Lucid
from lucid.contracts.access import Principal, Role
from lucid.contracts.scorecard import INCIDENT_KEYS
from lucid.contracts.value import Override, Stage
from lucid.dashboard import details, signed_in, views
from lucid.errors import InvalidInput, LucidError
from lucid.http.handle import LucidDep
from lucid.http.problems import status_of

router = APIRouter(prefix="/dashboard", include_in_schema=False)


# --- signing in --------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return signed_in.templates.TemplateResponse(request, "login.html", {"title": "Sign in"})


@router.post("/login")
def login(request: Request, token: str = Form("")) -> Response:
    """Start a session for a valid API token; the cookie holds only the session's id."""
    sessions = signed_in.sessions_of(request)
    try:
        signed_in.refuse_foreign_origin(request)
        _, session_id = sessions.start(token.strip())
    except LucidError as error:
        return signed_in.templates.TemplateResponse(
            request,
            "login.html",
            {"title": "Sign in", "error": error.sentence},
            status_code=status_of(error),
        )
    sessions.end(request.cookies.get(signed_in.COOKIE))  # a session this browser had before ends
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        signed_in.COOKIE,
        session_id,
        path=signed_in.COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    """End the session on the server (its cookie and form token stop working), then forget
    the cookie; a session already ended is only forgotten."""
    session_id = request.cookies.get(signed_in.COOKIE)
    try:
        signed_in.refuse_foreign_origin(request)
        if signed_in.session_of(request) is not None:
            signed_in.check_csrf(csrf, str(session_id))
            signed_in.sessions_of(request).end(session_id)
    except LucidError as error:
        return signed_in.templates.TemplateResponse(
            request, "error.html", {"title": "Sign out", "error": error.sentence}, status_code=403
        )
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(
        signed_in.COOKIE, path=signed_in.COOKIE_PATH, httponly=True, samesite="strict"
    )
    return response


# --- pages -------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, lucid: LucidDep) -> Response:
    return signed_in.page(request, "overview.html", "Overview", lambda: views.overview(lucid))


@router.get("/features", response_class=HTMLResponse)
def features(request: Request, lucid: LucidDep) -> Response:
    return signed_in.page(request, "features.html", "Features", lambda: views.features(lucid))


@router.get("/features/{name}", response_class=HTMLResponse)
def feature(request: Request, name: str, lucid: LucidDep, version: str | None = None) -> Response:
    """One feature: the latest version, or `?version=`."""
    return signed_in.page(
        request, "feature.html", f"Feature {name}", lambda: details.feature(lucid, name, version)
    )


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, lucid: LucidDep, period: str = "month") -> Response:
    return signed_in.page(request, "models.html", "Models", lambda: views.models(lucid, period))


@router.get("/models/{name}", response_class=HTMLResponse)
def model(request: Request, name: str, lucid: LucidDep) -> Response:
    return signed_in.page(request, "model.html", f"Model {name}", lambda: views.model(lucid, name))


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_models(request: Request, lucid: LucidDep) -> Response:
    return signed_in.page(
        request, "monitoring_models.html", "Monitoring", lambda: views.monitoring_models(lucid)
    )


@router.get("/monitoring/{name}", response_class=HTMLResponse)
def monitoring(request: Request, name: str, lucid: LucidDep) -> Response:
    return signed_in.page(
        request, "monitoring.html", f"Monitoring {name}", lambda: views.monitoring(lucid, name)
    )


@router.get("/experiments", response_class=HTMLResponse)
def experiments(request: Request, lucid: LucidDep) -> Response:
    return signed_in.page(
        request, "experiments.html", "Experiments", lambda: views.experiments(lucid)
    )


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment(request: Request, experiment_id: str, lucid: LucidDep) -> Response:
    return signed_in.page(
        request,
        "experiment.html",
        f"Experiment {experiment_id}",
        lambda: details.experiment(lucid, experiment_id),
    )


@router.get("/events", response_class=HTMLResponse)
def events(
    request: Request, lucid: LucidDep, after: int = 0, type: str | None = None, limit: int = 100
) -> Response:
    """The event timeline, oldest first from the cursor `after`, `limit` events a page."""

    def build() -> dict[str, Any]:
        if after < 0:
            raise InvalidInput("after", f"must be a position ≥ 0, not {after}")
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit", f"must be between 1 and 1000, not {limit}")
        return views.events(lucid, after, type, limit)

    return signed_in.page(request, "events.html", "Events", build)


# --- writes ------------------------------------------------------------------------------


def _model_page(lucid: Lucid, name: str) -> tuple[str, str, Callable[[], dict[str, Any]]]:
    return "model.html", f"Model {name}", lambda: views.model(lucid, name)


@router.post("/features/{reference}/approvals")
def approve_feature(
    request: Request,
    reference: str,
    lucid: LucidDep,
    team: str = Form(""),
    rationale: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Approve a definition for one team, as the session's person (never its proposer)."""

    def act(who: Principal) -> str:
        chosen = signed_in.required(team, "team")
        why = signed_in.required(rationale, "rationale")
        who.require(Role.APPROVER, team=chosen, action=f"approving {reference} for {chosen}")
        lucid.features.approve(reference, team=chosen, person=who.person, rationale=why)
        return "/dashboard/features?done=approval"

    page = ("features.html", "Features", lambda: views.features(lucid))
    return signed_in.act(request, csrf, act, page)


@router.post("/models/{name}/versions/{version}/promotions")
def promote_model(
    request: Request,
    name: str,
    version: int,
    lucid: LucidDep,
    to: str = Form(""),
    rationale: str = Form(""),
    override: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Promote a version through the gate (its evidence, or an approver's override)."""

    def act(who: Principal) -> str:
        if to not in {stage.value for stage in (Stage.CHALLENGER, Stage.PRODUCTION)}:
            raise InvalidInput("to", f"{to!r} must be challenger or production")
        wanted = Stage(to)
        why = signed_in.required(rationale, "rationale")
        overriding = override == "yes"
        needed = Role.APPROVER if wanted is Stage.PRODUCTION or overriding else Role.SCIENTIST
        who.require(needed, action=f"promoting {name}@{version} to {wanted.value}")
        lucid.registry.promote(
            name,
            version,
            wanted,
            actor=who.person,
            rationale=why,
            override=Override(who.person, why) if overriding else None,
        )
        return f"/dashboard/models/{quote(name)}?done=promotion"

    return signed_in.act(request, csrf, act, _model_page(lucid, name))


@router.post("/models/{name}/freeze")
def freeze_model(
    request: Request,
    name: str,
    lucid: LucidDep,
    reason: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Block every promotion of the model (approvers)."""

    def act(who: Principal) -> str:
        why = signed_in.required(reason, "reason")
        who.require(Role.APPROVER, action=f"freezing {name}")
        lucid.registry.freeze(name, reason=why, actor=who.person, source="dashboard")
        return f"/dashboard/models/{quote(name)}?done=freeze"

    return signed_in.act(request, csrf, act, _model_page(lucid, name))


@router.post("/monitoring/{name}/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    request: Request, name: str, alert_id: str, lucid: LucidDep, csrf: str = Form("")
) -> Response:
    """Take an alert in hand (scientists and above), which stops its escalation."""

    def act(who: Principal) -> str:
        who.require(Role.SCIENTIST, action=f"acknowledging alert {alert_id}")
        lucid.monitoring.acknowledge(alert_id, actor=who.person)
        return f"/dashboard/monitoring/{quote(name)}?done=ack"

    page = ("monitoring.html", f"Monitoring {name}", lambda: views.monitoring(lucid, name))
    return signed_in.act(request, csrf, act, page)


@router.get("/incidents", response_class=HTMLResponse)
def incidents(request: Request, lucid: LucidDep) -> Response:
    def build() -> dict[str, Any]:
        rows = [i.to_dict() for i in reversed(lucid.incidents.list())]
        card = lucid.loop.scorecard().to_dict()
        return {"incidents": rows, "figures": {key: card[key] for key in INCIDENT_KEYS}}

    return signed_in.page(request, "incidents.html", "Incidents", build)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident(request: Request, incident_id: str, lucid: LucidDep) -> Response:
    return signed_in.page(request, *_incident_page(lucid, incident_id))


def _incident_page(lucid: Lucid, incident_id: str) -> tuple[str, str, Callable[[], dict[str, Any]]]:
    return "incident.html", "Incident", lambda: details.incident(lucid, incident_id)


INCIDENT_STEPS = ("acknowledge", "diagnose", "propose", "lesson", "resolve")


@router.post("/incidents/{incident_id}/{step}")
def act_on_incident(
    request: Request,
    incident_id: str,
    step: str,
    lucid: LucidDep,
    root_cause: str = Form(""),
    details_: str = Form("", alias="details"),
    participants: str = Form(""),
    proposals: str = Form(""),
    lesson: str = Form(""),
    resolution: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """One step of an incident's lifecycle (scientists and above), through the same use
    cases as `/v1/incidents`: participants are comma-separated, proposals one a line."""

    def act(who: Principal) -> str:
        if step not in INCIDENT_STEPS:
            raise InvalidInput("step", f"{step!r} must be one of {', '.join(INCIDENT_STEPS)}")
        who.require(Role.SCIENTIST, action=f"{step} on incident {incident_id}")
        incidents = lucid.incidents
        if step == "acknowledge":
            incidents.acknowledge(incident_id, actor=who.person)
        elif step == "diagnose":
            incidents.diagnose(
                incident_id,
                root_cause=signed_in.required(root_cause, "root_cause"),
                details=signed_in.required(details_, "details"),
                participants=[p.strip() for p in participants.split(",") if p.strip()],
                actor=who.person,
            )
        elif step == "propose":
            lines = [line.strip() for line in proposals.splitlines() if line.strip()]
            incidents.propose(incident_id, lines, actor=who.person)
        elif step == "lesson":
            incidents.record_lesson(
                incident_id, signed_in.required(lesson, "lesson"), actor=who.person
            )
        else:
            incidents.resolve(
                incident_id,
                resolution=signed_in.required(resolution, "resolution"),
                actor=who.person,
            )
        return f"/dashboard/incidents/{quote(incident_id)}?done=incident"

    return signed_in.act(request, csrf, act, _incident_page(lucid, incident_id))


def to_dashboard() -> Response:
    """`/`: the dashboard (307, the method kept)."""
    return RedirectResponse("/dashboard", status_code=307)
