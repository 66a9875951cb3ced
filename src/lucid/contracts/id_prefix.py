"""An id given by its first characters, as lists and pages show it shortened: one stored id
starts with it, or the caller is told which ones do."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.errors import InvalidInput

MIN_PREFIX = 4
"""The fewest characters of an id accepted as its prefix."""
SHOWN_MATCHES = 5
"""Ids listed at most when a prefix is the start of several."""


def check_prefix(given: str, field: str) -> None:
    """Refuse a prefix shorter than `MIN_PREFIX` (an exact id is looked up before this)."""
    if len(given) < MIN_PREFIX:
        raise InvalidInput(
            field,
            f"{given!r} is not a stored id and too short to be the start of one: "
            f"give at least {MIN_PREFIX} characters",
        )


def chosen(given: str, starting: Sequence[str], field: str) -> str | None:
    """The one id of `starting` (the stored ids that start with `given`, in order, at most
    `SHOWN_MATCHES` + 1 of them); None when none does; refuses a prefix of several."""
    check_prefix(given, field)
    if len(starting) > 1:
        shown = ", ".join(starting[:SHOWN_MATCHES])
        more = " and more" if len(starting) > SHOWN_MATCHES else ""
        raise InvalidInput(
            field,
            f"{given!r} is the start of several ids ({shown}{more}); give more characters",
        )
    return starting[0] if starting else None
