"""The dashboard's routes: read-only pages for every role, signed in with an API token kept in
an HttpOnly cookie. Pages get plain dicts; results never render themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from lucid.access.tokens import Tokens
from lucid.contracts.access import Principal
from lucid.contracts.semantic import Status
from lucid.errors import LucidError
from lucid.service.app import LucidDep

COOKIE = "lucid_token"
INCIDENT_FIGURES = (
    "detection_delay_days",
    "time_to_recovery_days",
    "critical_incidents_undetected",
    "failures_documented_pct",
    "repeated_errors",
)
templates = Jinja2Templates(directory=Path(__file__).parents[1] / "dashboard" / "templates")
router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _viewer(request: Request) -> Principal | None:
    tokens: Tokens = request.app.state.tokens
    try:
        return tokens.authenticate(request.cookies.get(COOKIE))
    except LucidError:
        return None


def _page(request: Request, name: str, title: str, **context: Any) -> Response:
    who = _viewer(request)
    if who is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    return templates.TemplateResponse(
        request, name, {"title": title, "person": who.person, **context}
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"title": "Sign in"})


@router.post("/login")
def login(request: Request, token: str = Form("")) -> Response:
    tokens: Tokens = request.app.state.tokens
    try:
        tokens.authenticate(token.strip())
    except LucidError as error:
        return templates.TemplateResponse(
            request, "login.html", {"title": "Sign in", "error": error.sentence}, status_code=401
        )
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return response


@router.get("", response_class=HTMLResponse)
def overview(request: Request, lucid: LucidDep) -> Response:
    definitions = lucid.features.definitions()
    models = lucid.registry.list_models()
    latest = lucid.events.head()
    after = max(0, (latest.seq if latest else 0) - 20)
    return _page(
        request,
        "overview.html",
        "Overview",
        approved=sum(1 for g in definitions if g.status is Status.APPROVED),
        contradictions=lucid.features.audit().contradictory_definitions,
        production=sum(1 for m in models if m.production is not None),
        chain=lucid.events.verify(),
        events=list(reversed(lucid.events.read(after=after, limit=20))),
    )


@router.get("/features", response_class=HTMLResponse)
def features(request: Request, lucid: LucidDep) -> Response:
    rows = [
        {
            **g.definition.to_dict(),
            "status": g.status.value,
            "approvals": [{"team": a.team, "person": a.person} for a in g.approvals],
            "missing_teams": list(g.missing_teams),
        }
        for g in lucid.features.definitions()
    ]
    return _page(
        request, "features.html", "Features", features=rows, audit=lucid.features.audit().to_dict()
    )


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, lucid: LucidDep) -> Response:
    rows = [
        {
            "name": summary.name,
            "versions": [v.to_dict() for v in lucid.registry.versions(summary.name)],
        }
        for summary in lucid.registry.list_models()
    ]
    return _page(request, "models.html", "Models", models=rows)


@router.get("/events", response_class=HTMLResponse)
def events(request: Request, lucid: LucidDep, after: int = 0) -> Response:
    page = lucid.events.read(after=after, limit=100)
    next_cursor = page[-1].seq if len(page) == 100 else None
    return _page(request, "events.html", "Events", events=page, next_cursor=next_cursor)


@router.get("/incidents", response_class=HTMLResponse)
def incidents(request: Request, lucid: LucidDep) -> Response:
    rows = [i.to_dict() for i in reversed(lucid.incidents.list())]
    card = lucid.loop.scorecard().to_dict()
    figures = {key: card[key] for key in INCIDENT_FIGURES}
    return _page(request, "incidents.html", "Incidents", incidents=rows, figures=figures)
