"""Who someone is, as a comparable text: the one normal form of a person's name.

Four-eyes rules compare people (the proposer is not the approver), so two spellings of one
person must be one name: `Dana`, `dana`, `ｄａｎａ` and `dana` followed by a zero-width space
all normalise to `dana`. Every path that takes an actor, a person, a proposer or an approver
normalises it here before comparing or storing it.

Not covered: look-alike letters of other scripts (Cyrillic `а` for Latin `a`) stay distinct
names; identities come from tokens and settings that an administrator issues.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from lucid.contracts.names import PERSON_MAX_LENGTH, check_length
from lucid.errors import InvalidInput

_DEFAULT_IGNORABLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0"
    + "".join(chr(point) for point in range(0xFE00, 0xFE10))
    + "".join(chr(point) for point in range(0xE0100, 0xE01F0))
)
"""Invisible characters outside category Cf: the combining grapheme joiner, Hangul and
Khmer fillers, and the variation selectors."""


def _invisible(character: str) -> bool:
    return unicodedata.category(character) == "Cf" or character in _DEFAULT_IGNORABLE


def normalise_identity(value: str, field: str = "actor") -> str:
    """The normal form of a person's name: NFKC, case-folded, invisible (format) characters
    removed, runs of white space made one space, surrounding white space trimmed.

    Raises InvalidInput naming `field` when the name holds a control character (a newline,
    a tab, NUL…), is empty once normalised, or is longer than `PERSON_MAX_LENGTH`.
    """
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a person's name (text), not {value!r}")
    controls = sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) == "Cc"})
    if controls:
        raise InvalidInput(
            field, f"must not contain control characters ({', '.join(controls)}) in a name"
        )
    text = unicodedata.normalize("NFKC", value)
    text = "".join(character for character in text if not _invisible(character))
    text = unicodedata.normalize("NFKC", text.casefold())
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(
            field,
            "must name who did it (a person, team or service); nothing is left once white "
            "space and invisible characters are removed",
        )
    check_length(text, field, PERSON_MAX_LENGTH)
    return text


def normalise_identities(values: Iterable[str], field: str) -> tuple[str, ...]:
    """Each name of `values` in normal form, in order, repeats removed."""
    return tuple(dict.fromkeys(normalise_identity(value, field) for value in values))


def same_person(first: str, second: str) -> bool:
    """Whether two names are one person once normalised; a name that does not normalise
    (empty, control characters) is nobody's, so it matches no one."""
    try:
        return normalise_identity(first) == normalise_identity(second)
    except InvalidInput:
        return False
