"""Request bodies bounded before anything reads them: a plain ASGI middleware.

A body whose `Content-Length` passes the route's limit is refused before the application is
called (no token checked, no byte read). A body sent without a length (chunked) is counted
as the application reads it: the read that passes the limit answers 413 itself and ends the
request for the application, whose own answer is then dropped. Either way the 413 closes the
connection, so the rest of the body is never read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lucid.http.problems import problem_body


class BodyTooLarge(Exception):
    """Raised by `receive` in the application once a streamed body passes the limit; the
    middleware has answered 413 by then."""


class BodyLimit:
    """Refuses (413) a request body over `limit` bytes, or over the limit of the first
    `(path prefix, limit)` of `limits` that the request's path starts with."""

    def __init__(self, app: ASGIApp, *, limit: int, limits: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.limit = limit
        self.limits = tuple(limits)

    def limit_of(self, path: str) -> int:
        """The largest body, in bytes, a request to `path` may send."""
        return next((size for prefix, size in self.limits if path.startswith(prefix)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = refused = False

        async def counting() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started and not refused:
                        refused = True
                        await _refuse(send, limit)
                    raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if not refused:
                raise


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length itself
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        problem_body(
            413,
            "Content too large",
            f"body: must be at most {limit} bytes on this route.",
            "body",
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is not read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
