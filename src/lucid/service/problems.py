"""Domain errors as RFC 9457 problem details (`application/problem+json`), mapped here only."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


def problem(status: int, title: str, detail: str, field: str | None = None) -> JSONResponse:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


async def lucid_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LucidError)
    for kind, status, title in _STATUS:
        if isinstance(error, kind):
            field = error.field if isinstance(error, InvalidInput) else None
            return problem(status, title, error.sentence, field)
    return problem(400, "Bad request", error.sentence)


async def validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"] if part != "body")
    return problem(422, "Invalid input", f"{field}: {first['msg']}", field)


def status_of(error: LucidError) -> int:
    """The HTTP status of a domain error (400 for one no rule maps)."""
    return next((status for kind, status, _ in _STATUS if isinstance(error, kind)), 400)
