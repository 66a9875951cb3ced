"""What the routes receive from FastAPI: the worker's `Lucid` handle and the principal of the
request's bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lucid.contracts.access import Principal
from lucid.http.handle import LucidDep as LucidDep
from lucid.service.predictor import ServingState

_BEARER = HTTPBearer(
    auto_error=False,
    description="An API token from `lucid tokens create`: `Authorization: Bearer <token>`.",
)


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials.strip() if credentials is not None else None


def principal(request: Request, credentials: BearerDep = None) -> Principal:
    """The principal of the request's bearer token (401 without a valid one)."""
    serving: ServingState = request.app.state.serving
    return serving.principal(bearer_token(credentials), serving.current())


PrincipalDep = Annotated[Principal, Depends(principal)]
