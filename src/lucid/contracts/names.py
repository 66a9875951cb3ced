"""The rules every name obeys: whole-text patterns, maximum lengths, and unknown keys.

A pattern must match the whole text (`re.fullmatch`): `$` in a Python pattern also matches
before a final newline, so `churn\\n` would pass a `^…$` check. A name is at most
`NAME_MAX_LENGTH` characters, a person (an actor, a token's holder, an alert's target) at most
`PERSON_MAX_LENGTH`: the widths of the metadata database's columns, checked here so that a
long name is refused with a sentence before any database sees it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lucid.errors import InvalidInput

NAME_MAX_LENGTH = 100
"""Characters in a feature, source, concept, entity, team, model or experiment name."""

PERSON_MAX_LENGTH = 200
"""Characters in who acts or is alerted: a person, a team or an address."""

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
"""Features, sources, concepts, entities: lower-case letters, digits and '_'."""

SLUG = re.compile(r"[a-z][a-z0-9_-]*")
"""Models, teams, experiments: lower-case letters, digits, '_' and '-'."""


def check_length(value: str, field: str, maximum: int = NAME_MAX_LENGTH) -> str:
    """`value` when it has at most `maximum` characters; else the sentence naming `field`."""
    if len(value) > maximum:
        raise InvalidInput(
            field, f"must be at most {maximum} characters, not {len(value)} ({value[:20]!r}…)"
        )
    return value


def check_pattern(
    value: object,
    field: str,
    pattern: re.Pattern[str],
    rule: str,
    maximum: int = NAME_MAX_LENGTH,
) -> str:
    """`value` when it is text matching the whole of `pattern` within `maximum` characters.

    `rule` says what the pattern allows, e.g. "a lower-case identifier (letters, digits,
    '_'; starts with a letter)".
    """
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be {rule}, not {_described(value)}")
    check_length(value, field, maximum)
    if not pattern.fullmatch(value):
        raise InvalidInput(field, f"{value!r} must be {rule}")
    return value


def check_person(value: object, field: str) -> str:
    """Who acts: non-blank text of at most `PERSON_MAX_LENGTH` characters with no
    control character (a newline would forge a line in a log or a report)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            field, f"must name who did it (a person, team or service), not {value!r}"
        )
    check_length(value, field, PERSON_MAX_LENGTH)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(field, f"{value!r} must not contain control characters")
    return value


def refuse_unknown_keys(raw: Mapping[Any, Any], known: Iterable[str], where: str) -> None:
    """Refuse the first key of `raw` that is not in `known`, naming the nearest known key:
    `thresholds[0].levle: unknown key; did you mean level?`."""
    allowed = known if isinstance(known, set | frozenset) else set(known)
    unknown = [key for key in raw if key not in allowed]
    if unknown:
        key = min(unknown, key=str)
        raise InvalidInput(f"{where}.{key}", unknown_key_rule(str(key), allowed))


def refuse_all(problems: Sequence[InvalidInput], field: str) -> None:
    """Raise nothing for no problem, the problem itself for one, and one refusal naming every
    problem for several (`field: 2 problems: a: … b: …`)."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        said = " ".join(
            p.sentence if p.sentence.endswith((".", "?")) else p.sentence + "." for p in problems
        )
        raise InvalidInput(field, f"{len(problems)} problems: {said}")


def unknown_key_rule(key: str, known: Iterable[str]) -> str:
    """The rule for an unknown `key`: the nearest of `known` when one is close, else all."""
    allowed = sorted(known)
    nearest = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if nearest:
        return f"unknown key; did you mean {nearest[0]}?"
    return f"unknown key (known: {', '.join(allowed)})"


def one_of(value: object, field: str, allowed: Iterable[str]) -> str:
    """`value` when it is one of `allowed`; else the sentence naming the nearest one."""
    choices = list(allowed)
    if isinstance(value, str) and value in choices:
        return value
    nearest = (
        difflib.get_close_matches(value, choices, n=1, cutoff=0.6) if isinstance(value, str) else []
    )
    hint = f"; did you mean {nearest[0]}?" if nearest else ""
    raise InvalidInput(field, f"{value!r} is not one of {', '.join(choices)}{hint}")


def _described(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list | tuple):
        return f"a list {value!r}"
    if isinstance(value, Mapping):
        return f"a mapping {value!r}"
    return f"the {type(value).__name__} {value!r}"
