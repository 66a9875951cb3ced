"""Domain errors as RFC 9457 problem details (`application/problem+json`), mapped here only."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from lucid.access.tokens import Unauthenticated
from lucid.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LucidError,
    NotFound,
    SchemaOutdated,
    StorageUnavailable,
)

_STATUS: list[tuple[type[LucidError], int, str]] = [
    (Unauthenticated, 401, "Unauthenticated"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (InvalidInput, 422, "Invalid input"),
    (StorageUnavailable, 503, "Storage unavailable"),
    (SchemaOutdated, 503, "Schema outdated"),
]


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong as one sentence naming the field and the rule."""

    type: str = "about:blank"
    title: str = Field(description="The HTTP status in words, e.g. 'Not found'.")
    status: int
    detail: str = Field(description="A sentence naming the field and the rule.")
    field: str | None = Field(None, description="The field at fault, for invalid input.")


RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "Refused: a problem body (401 no valid token, 403 role, 404 unknown, "
        "409 state, 422 input).",
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    },
    "5XX": {
        "description": "Storage unavailable or the schema outdated: a problem body.",
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    },
}
"""The error responses every route documents (`responses=` of the app)."""


def problem_body(status: int, title: str, detail: str, field: str | None = None) -> dict[str, Any]:
    """The problem document of a refusal."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    return body


def problem(status: int, title: str, detail: str, field: str | None = None) -> JSONResponse:
    body = problem_body(status, title, detail, field)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


async def lucid_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LucidError)
    status, title = status_and_title(error)
    field = error.field if isinstance(error, InvalidInput) else None
    return problem(status, title, error.sentence, field)


def status_and_title(error: LucidError) -> tuple[int, str]:
    """The HTTP status of a domain error and its title (400 for one no rule maps)."""
    return next(
        ((status, title) for kind, status, title in _STATUS if isinstance(error, kind)),
        (400, "Bad request"),
    )


async def validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    where = list(first["loc"])
    if where and where[0] in ("body", "query", "path", "header", "cookie"):
        where = where[1:]  # the field's name, not where in the request it was
    field = ".".join(str(part) for part in where) or "body"
    return problem(422, "Invalid input", f"{field}: {rule_of(first)}", field)


def rule_of(error: Any) -> str:
    """The rule a pydantic error names, in the API's words for an unknown field."""
    if error["type"] == "extra_forbidden":
        return "is not a field of this request (unknown fields are refused, not ignored)"
    return str(error["msg"])


async def http_error(_request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals (unknown path, wrong method) as problem bodies too."""
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    if error.status_code == 404:
        detail = "No route matches this path; see /docs for the API."
    elif error.status_code == 405:
        detail = "This path does not take this method; see /docs for the API."
    response = problem(error.status_code, _TITLES.get(error.status_code, "Error"), detail)
    if error.headers:
        response.headers.update(error.headers)
    return response


_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}


async def unexpected_error(_request: Request, _error: Exception) -> JSONResponse:
    """A bug, not a refusal: still a problem body (uvicorn logs the traceback)."""
    return problem(500, "Internal error", BUG)


BUG = (
    "The service failed on this request (a bug, not a refusal); the server log holds the traceback."
)


def status_of(error: LucidError) -> int:
    """The HTTP status of a domain error (400 for one no rule maps)."""
    return status_and_title(error)[0]
