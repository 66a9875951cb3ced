"""What every JSON request body of the API shares: unknown fields refused, and the text
fields each route stores, bounded by the columns that hold them.

A misspelt field (`"levle": "critical"`) is refused with 422 naming it, never ignored; text
is checked by `lucid.http.text_fields` (no control characters) and its length by the
column it lands in, so no driver ever refuses it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from lucid.http.text_fields import ONE_LINE, PROSE


class RequestBody(BaseModel):
    """A request body: a field it does not declare is an error (422 naming the field)."""

    model_config = ConfigDict(extra="forbid")


Name = Annotated[str, StringConstraints(min_length=1, max_length=100), ONE_LINE]
"""A model, team, experiment or event type name (at most 100 characters)."""

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
"""An entity's id as its listing source holds it (at most 200 characters)."""

FeatureReference = Annotated[str, StringConstraints(min_length=1, max_length=160), ONE_LINE]
"""A pinned feature, `name@version` (at most 160 characters)."""

PredictionId = Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE]
"""The id of a logged prediction (at most 64 characters)."""

Rationale = Annotated[str, StringConstraints(min_length=1), PROSE]
"""Why, in free text (tabs and line breaks allowed)."""
