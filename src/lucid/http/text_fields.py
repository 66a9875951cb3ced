"""Text a request hands to storage, checked first: no control characters, no unpaired
surrogates.

PostgreSQL refuses a NUL byte in text and neither database driver encodes an unpaired
surrogate; SQLite stores a NUL and cuts the text there in most functions. Both are refused
at the edge with a sentence naming the field, before any driver sees them. A `Line` (a
name, an id, a reference) holds no control character at all; `Prose` (a rationale, a
summary, a lesson) may hold tabs and line breaks.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Request
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from lucid.errors import InvalidInput

_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_IN_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def refusal(value: str, *, prose: bool = False) -> str | None:
    """Why `value` cannot be stored as text (the rule and the first character breaking it),
    or None when it can. Prose may hold tab, line feed and carriage return."""
    found = (_IN_PROSE if prose else _IN_LINE).search(value)
    if found is None:
        return None
    code = ord(found.group())
    kind = "an unpaired surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"must not contain U+{code:04X} ({kind}), found at character {found.start() + 1}"


def _line(value: str) -> str:
    reason = refusal(value)
    if reason is not None:
        raise PydanticCustomError("control_character", reason)
    return value


def _prose(value: str) -> str:
    reason = refusal(value, prose=True)
    if reason is not None:
        raise PydanticCustomError("control_character", reason)
    return value


ONE_LINE = AfterValidator(_line)
"""The rule of one line of text, for `Annotated[str, ...]` after any length constraint."""

PROSE = AfterValidator(_prose)
"""The rule of free text, for `Annotated[str, ...]` after any length constraint."""

Line = Annotated[str, ONE_LINE]
"""One line of text (a name, an id, a reference): no control character."""

Prose = Annotated[str, PROSE]
"""Free text (a rationale, a summary): tabs and line breaks, no other control character."""


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def plain_parameters(request: Request) -> None:
    """Refuse a path or query parameter holding a control character, and a form field (the
    dashboard's) holding one other than tab and line breaks. A route dependency: async, so
    it costs no thread; the form is the one the route parsed (Starlette keeps it), read
    within the body limit."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        reason = refusal(value) if isinstance(value, str) else None
        if reason is not None:
            raise InvalidInput(name, reason)
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORMS):
        for name, value in (await request.form()).multi_items():
            reason = refusal(value, prose=True) if isinstance(value, str) else None
            if reason is not None:
                raise InvalidInput(name, reason)
