"""The project handle a request works on, as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lucid.bootstrap import Lucid


async def lucid_handle(request: Request) -> Lucid:  # async: no thread hop per request
    handle: Lucid = request.app.state.lucid
    return handle


LucidDep = Annotated[Lucid, Depends(lucid_handle)]
