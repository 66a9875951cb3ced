"""A dashboard page for the signed-in person, and a form's action taken as them behind the
session, origin and CSRF checks (`lucid.dashboard.pages` says why each check)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from lucid.access.sessions import Sessions, csrf_token
from lucid.contracts.access import Principal, Role
from lucid.dashboard.moments import readable
from lucid.errors import Forbidden, InvalidInput, LucidError
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

DONE = {
    "approval": "Your approval was recorded.",
    "promotion": "The promotion was recorded.",
    "freeze": "Promotions of the model are frozen.",
    "ack": "The alert is acknowledged.",
    "incident": "The incident's step was recorded.",
}


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.lucid.sessions
    return sessions


def session_of(request: Request) -> tuple[Principal, str] | None:
    """The signed-in principal and the session id of the request's cookie, if it is live."""
    session_id = request.cookies.get(COOKIE)
    try:
        return sessions_of(request).authenticate(session_id), str(session_id)
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


def page(
    request: Request,
    name: str,
    title: str,
    build: Callable[[], dict[str, Any]] | None = None,
    **context: Any,
) -> Response:
    """A page for the signed-in principal from `build()` (or the `context` given); a domain
    error while reading shows its sentence with its status."""
    session = session_of(request)
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


def act(
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
        session = (sessions_of(request).authenticate(session_id), str(session_id))
    except LucidError as error:
        return _signed_out(request, error)
    name, title, build = page
    try:
        refuse_foreign_origin(request)
        check_csrf(csrf, session[1])
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


def check_csrf(csrf: str, session_id: str) -> None:
    if not hmac.compare_digest(csrf, csrf_token(session_id)):
        raise Forbidden("csrf: the form's token does not match this session; reload the page.")


def refuse_foreign_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        raise Forbidden(f"Origin: a form sent from {origin} is refused; use {own}.")


def required(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidInput(field, "is required")
    return value.strip()
