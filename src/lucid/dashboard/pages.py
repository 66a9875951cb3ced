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

import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from lucid.access.sessions import Sessions, csrf_token
from lucid.bootstrap import Lucid
from lucid.contracts.access import Principal, Role
from lucid.contracts.scorecard import INCIDENT_KEYS
from lucid.contracts.value import Override, Stage
from lucid.dashboard import details, views
from lucid.dashboard.moments import readable
from lucid.errors import Forbidden, InvalidInput, LucidError
from lucid.http.handle import LucidDep
from lucid.http.problems import status_of

COOKIE = "lucid_session"
COOKIE_PATH = "/dashboard"
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def _when(moment: object) -> Markup:
    """A moment (ISO text or a datetime) to the minute, its day kept on one line."""
    day, _, time = str(moment or "")[:16].replace(" ", "T").partition("T")
    return Markup('<span class="day">{}</span> {}').format(day, time)


templates.env.filters["when"] = _when
templates.env.filters["moments"] = readable
templates.env.filters["short"] = lambda text, size=8: str(text)[:size]
router = APIRouter(prefix="/dashboard", include_in_schema=False)

DONE = {
    "approval": "Your approval was recorded.",
    "promotion": "The promotion was recorded.",
    "freeze": "Promotions of the model are frozen.",
    "ack": "The alert is acknowledged.",
    "incident": "The incident's step was recorded.",
}


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.lucid.sessions
    return sessions


def _session(request: Request) -> tuple[Principal, str] | None:
    """The signed-in principal and the session id of the request's cookie, if it is live."""
    session_id = request.cookies.get(COOKIE)
    try:
        return _sessions(request).authenticate(session_id), str(session_id)
    except LucidError:
        return None


def _signed_out(request: Request, reason: LucidError) -> Response:
    """A form sent without a live session: the sign-in page with why (HTTP 401)."""
    context = {"title": "Sign in", "error": f"{reason.sentence} Nothing was done."}
    return templates.TemplateResponse(request, "login.html", context, status_code=401)


class Abilities:
    """What the signed-in principal may do, for the templates to offer only that."""

    def __init__(self, who: Principal) -> None:
        self.who = who

    def at_least(self, role: str) -> bool:
        return self.who.role.rank >= Role(role).rank

    def approves_for(self, team: str) -> bool:
        return self.at_least("approver") and (self.who.role is Role.ADMIN or team in self.who.teams)


def _as_of(request: Request) -> str | None:
    """The project's fixed `as_of` moment as the pages show it, or None (the machine's time)."""
    moment = request.app.state.lucid.settings.as_of
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _render(
    request: Request,
    session: tuple[Principal, str],
    name: str,
    title: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    who, session_id = session
    done = DONE.get(request.query_params.get("done", ""))
    return templates.TemplateResponse(
        request,
        name,
        {
            "title": title,
            "person": who.person,
            "role": who.role.value,
            "can": Abilities(who),
            "csrf": csrf_token(session_id),
            "error": error,
            "done": None if error else done,
            "as_of": _as_of(request),
            **context,
        },
        status_code=status_code,
    )


def _page(
    request: Request,
    name: str,
    title: str,
    build: Callable[[], dict[str, Any]] | None = None,
    **context: Any,
) -> Response:
    """A page for the signed-in principal from `build()` (or the `context` given); a domain
    error while reading shows its sentence with its status."""
    session = _session(request)
    if session is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    try:
        if build is not None:
            context = build()
    except LucidError as error:
        return _render(
            request,
            session,
            "error.html",
            title,
            {},
            status_code=status_of(error),
            error=error.sentence,
        )
    return _render(request, session, name, title, context)


def _act(
    request: Request,
    csrf: str,
    action: Callable[[Principal], str],
    page: tuple[str, str, Callable[[], dict[str, Any]]],
) -> Response:
    """Check the session, the origin and the CSRF token, then act as the session's person;
    on success go back to the page with what was done, on refusal show the page with the
    sentence (nothing is written by a refused action)."""
    session_id = request.cookies.get(COOKIE)
    try:
        session = (_sessions(request).authenticate(session_id), str(session_id))
    except LucidError as error:
        return _signed_out(request, error)
    name, title, build = page
    try:
        _refuse_foreign_origin(request)
        _check_csrf(csrf, session[1])
        back = action(session[0])
    except LucidError as error:
        try:
            context = build()
        except LucidError:
            context = {}
            name = "error.html"
        return _render(
            request,
            session,
            name,
            title,
            context,
            status_code=status_of(error),
            error=error.sentence,
        )
    return RedirectResponse(back, status_code=303)


def _check_csrf(csrf: str, session_id: str) -> None:
    if not hmac.compare_digest(csrf, csrf_token(session_id)):
        raise Forbidden("csrf: the form's token does not match this session; reload the page.")


def _refuse_foreign_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        raise Forbidden(f"Origin: a form sent from {origin} is refused; use {own}.")


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidInput(field, "is required")
    return value.strip()


# --- signing in --------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"title": "Sign in"})


@router.post("/login")
def login(request: Request, token: str = Form("")) -> Response:
    """Start a session for a valid API token; the cookie holds only the session's id."""
    sessions = _sessions(request)
    try:
        _refuse_foreign_origin(request)
        _, session_id = sessions.start(token.strip())
    except LucidError as error:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"title": "Sign in", "error": error.sentence},
            status_code=status_of(error),
        )
    sessions.end(request.cookies.get(COOKIE))  # a session this browser had before ends
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    """End the session on the server (its cookie and form token stop working), then forget
    the cookie; a session already ended is only forgotten."""
    session_id = request.cookies.get(COOKIE)
    try:
        _refuse_foreign_origin(request)
        if _session(request) is not None:
            _check_csrf(csrf, str(session_id))
            _sessions(request).end(session_id)
    except LucidError as error:
        return templates.TemplateResponse(
            request, "error.html", {"title": "Sign out", "error": error.sentence}, status_code=403
        )
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


# --- pages -------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, lucid: LucidDep) -> Response:
    return _page(request, "overview.html", "Overview", lambda: views.overview(lucid))


@router.get("/features", response_class=HTMLResponse)
def features(request: Request, lucid: LucidDep) -> Response:
    return _page(request, "features.html", "Features", lambda: views.features(lucid))


@router.get("/features/{name}", response_class=HTMLResponse)
def feature(request: Request, name: str, lucid: LucidDep, version: str | None = None) -> Response:
    """One feature: the latest version, or `?version=`."""
    return _page(
        request, "feature.html", f"Feature {name}", lambda: details.feature(lucid, name, version)
    )


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, lucid: LucidDep, period: str = "month") -> Response:
    return _page(request, "models.html", "Models", lambda: views.models(lucid, period))


@router.get("/models/{name}", response_class=HTMLResponse)
def model(request: Request, name: str, lucid: LucidDep) -> Response:
    return _page(request, "model.html", f"Model {name}", lambda: views.model(lucid, name))


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_models(request: Request, lucid: LucidDep) -> Response:
    return _page(
        request, "monitoring_models.html", "Monitoring", lambda: views.monitoring_models(lucid)
    )


@router.get("/monitoring/{name}", response_class=HTMLResponse)
def monitoring(request: Request, name: str, lucid: LucidDep) -> Response:
    return _page(
        request, "monitoring.html", f"Monitoring {name}", lambda: views.monitoring(lucid, name)
    )


@router.get("/experiments", response_class=HTMLResponse)
def experiments(request: Request, lucid: LucidDep) -> Response:
    return _page(request, "experiments.html", "Experiments", lambda: views.experiments(lucid))


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment(request: Request, experiment_id: str, lucid: LucidDep) -> Response:
    return _page(
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

    return _page(request, "events.html", "Events", build)


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
        chosen = _required(team, "team")
        why = _required(rationale, "rationale")
        who.require(Role.APPROVER, team=chosen, action=f"approving {reference} for {chosen}")
        lucid.features.approve(reference, team=chosen, person=who.person, rationale=why)
        return "/dashboard/features?done=approval"

    page = ("features.html", "Features", lambda: views.features(lucid))
    return _act(request, csrf, act, page)


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
        why = _required(rationale, "rationale")
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

    return _act(request, csrf, act, _model_page(lucid, name))


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
        why = _required(reason, "reason")
        who.require(Role.APPROVER, action=f"freezing {name}")
        lucid.registry.freeze(name, reason=why, actor=who.person, source="dashboard")
        return f"/dashboard/models/{quote(name)}?done=freeze"

    return _act(request, csrf, act, _model_page(lucid, name))


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
    return _act(request, csrf, act, page)


@router.get("/incidents", response_class=HTMLResponse)
def incidents(request: Request, lucid: LucidDep) -> Response:
    def build() -> dict[str, Any]:
        rows = [i.to_dict() for i in reversed(lucid.incidents.list())]
        card = lucid.loop.scorecard().to_dict()
        return {"incidents": rows, "figures": {key: card[key] for key in INCIDENT_KEYS}}

    return _page(request, "incidents.html", "Incidents", build)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident(request: Request, incident_id: str, lucid: LucidDep) -> Response:
    return _page(request, *_incident_page(lucid, incident_id))


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
                root_cause=_required(root_cause, "root_cause"),
                details=_required(details_, "details"),
                participants=[p.strip() for p in participants.split(",") if p.strip()],
                actor=who.person,
            )
        elif step == "propose":
            lines = [line.strip() for line in proposals.splitlines() if line.strip()]
            incidents.propose(incident_id, lines, actor=who.person)
        elif step == "lesson":
            incidents.record_lesson(incident_id, _required(lesson, "lesson"), actor=who.person)
        else:
            incidents.resolve(
                incident_id, resolution=_required(resolution, "resolution"), actor=who.person
            )
        return f"/dashboard/incidents/{quote(incident_id)}?done=incident"

    return _act(request, csrf, act, _incident_page(lucid, incident_id))


def to_dashboard() -> Response:
    """`/`: the dashboard (307, the method kept)."""
    return RedirectResponse("/dashboard", status_code=307)
