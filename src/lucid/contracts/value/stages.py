"""The stages of a model version and the moves a person may make between them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from lucid.errors import Conflict


class Stage(StrEnum):
    """The life of a model version in the registry."""

    CANDIDATE = "candidate"
    CHALLENGER = "challenger"
    PRODUCTION = "production"
    ARCHIVED = "archived"


PROMOTIONS: Mapping[Stage, frozenset[Stage]] = {
    Stage.CANDIDATE: frozenset({Stage.CHALLENGER, Stage.ARCHIVED}),
    Stage.CHALLENGER: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}
"""Stage → the stages a person may move a version to. A production version leaves production
only when another version replaces it or by rollback; an archived version serves again only
through a rollback."""


def check_transition(current: Stage, wanted: Stage, version_label: str) -> None:
    """Refuse a stage change a person may not make (see `PROMOTIONS`)."""
    if wanted == current:
        raise Conflict(f"{version_label} is already {current.value}; nothing changed.")
    if wanted not in PROMOTIONS[current]:
        allowed = ", ".join(sorted(s.value for s in PROMOTIONS[current])) or "no other stage"
        raise Conflict(
            f"{version_label} is {current.value} and may move only to {allowed}, "
            f"not to {wanted.value}; nothing changed."
        )
