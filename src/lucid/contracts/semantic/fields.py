"""Parsing helpers shared by the semantic contract's value types: names, texts, mappings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from lucid.errors import InvalidInput

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TEAM = re.compile(r"^[a-z][a-z0-9_-]*$")
DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def check_name(value: object, field_name: str) -> str:
    """A lower-case identifier: letters, digits and '_', starting with a letter."""
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput(
            field_name,
            f"{value!r} must be a lower-case identifier (letters, digits, '_'; starts with a "
            "letter)",
        )
    return value


def as_text(value: object, field_name: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(field_name, "must be a non-empty text")
    return value.strip()


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
        raise InvalidInput(field_name, "must be a list")
    return value


def refuse_unknown(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"{where}.{unknown[0]}", f"is not a known field (known: {', '.join(sorted(allowed))})"
        )


def enum_values(enum: type[Enum]) -> str:
    return ", ".join(str(member.value) for member in enum)
