"""Times in request bodies, read by the one time rule (`lucid.contracts.times`).

Pydantic's own `datetime` keeps a naive time naive and words its refusals its own way; this
type hands every given time to `to_utc`, so a request refuses a bad time with the sentence
the CLI and the SDK use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from lucid.contracts.times import EXAMPLE, to_utc
from lucid.errors import InvalidInput


def _utc(value: object) -> datetime:
    try:
        return to_utc(value, "time")
    except InvalidInput as error:
        # The problem body names the field (its path in the body) before this rule.
        raise PydanticCustomError("time", error.rule) from None


UtcTime = Annotated[
    datetime,
    BeforeValidator(_utc),
    Field(description=f"ISO 8601; an offset is honoured, no offset means UTC (e.g. {EXAMPLE})."),
]
"""An aware UTC datetime given as ISO 8601 text in a request body."""
