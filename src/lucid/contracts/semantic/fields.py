"""Parsing helpers shared by the semantic contract's value types: names, texts, mappings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from lucid.contracts.names import (
    IDENTIFIER,
    NAME_MAX_LENGTH,
    SLUG,
    check_pattern,
    refuse_unknown_keys,
)
from lucid.errors import InvalidInput

DURATION = re.compile(r"([0-9]{1,9})\s*([smhdw])")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
COLUMN_MAX_LENGTH = 255
"""Characters in a source's column name."""


def check_name(value: object, field_name: str) -> str:
    """A lower-case identifier of at most 100 characters: letters, digits and '_', starting
    with a letter."""
    return check_pattern(
        value,
        field_name,
        IDENTIFIER,
        "a lower-case identifier (letters, digits, '_'; starts with a letter; at most "
        f"{NAME_MAX_LENGTH} characters)",
    )


def check_team(value: object, field_name: str) -> str:
    """A team: lower-case letters, digits, '_' or '-', starting with a letter."""
    return check_pattern(
        value,
        field_name,
        SLUG,
        f"a lower-case team name (letters, digits, '_', '-'; at most {NAME_MAX_LENGTH} characters)",
    )


def as_column(value: object, field_name: str) -> str:
    """A column name: one non-blank text (not a list), without control characters."""
    if not isinstance(value, str) or not value.strip():
        found = "a list" if isinstance(value, list) else repr(value)
        raise InvalidInput(field_name, f"must be a column name (text), not {found}")
    if len(value) > COLUMN_MAX_LENGTH or any(ord(c) < 32 for c in value):
        raise InvalidInput(
            field_name,
            f"{value[:40]!r} must be a column name of at most {COLUMN_MAX_LENGTH} characters "
            "without control characters",
        )
    return value.strip()


def as_text(value: object, field_name: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        found = f", not {value!r}" if not isinstance(value, str) else ""
        raise InvalidInput(field_name, f"must be a non-empty text{found}")
    return value.strip()


def as_texts(value: object, field_name: str) -> tuple[str, ...]:
    """A list of non-empty texts (an absent list is empty)."""
    return tuple(
        as_text(item, f"{field_name}[{index}]")
        for index, item in enumerate(as_list(value, field_name))
    )


def as_mapping(value: object, field_name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(field_name, f"must be a mapping of fields, not {type(value).__name__}")
    return value


def iso_text(value: object) -> object:
    """YAML reads unquoted times as datetimes; examples keep them as ISO-8601 text."""
    return value.isoformat() if isinstance(value, datetime | date) else value


def as_list(value: object, field_name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(field_name, f"must be a list, not {value!r}")
    return value


def refuse_unknown(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse a key not in `allowed`, naming the nearest allowed one."""
    refuse_unknown_keys(data, allowed, where)


def enum_values(enum: type[Enum]) -> str:
    return ", ".join(str(member.value) for member in enum)
