"""The one HTTP client of notifications: a POST that answers with the status code."""

from __future__ import annotations

import httpx

TransportError = httpx.TransportError
"""No answer came (refused, unreachable, timed out)."""


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    """POST `body` to `url` and return the response, whatever its status; raises
    `TransportError` when no response came within `timeout` seconds."""
    return httpx.post(url, content=body, headers=headers, timeout=timeout)
