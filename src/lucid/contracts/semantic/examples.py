"""Value types and golden examples: the small input → expected-output cases a definition must
reproduce on every path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lucid.contracts.semantic.computation import Scalar
from lucid.contracts.semantic.fields import as_mapping, as_text, iso_text, refuse_unknown
from lucid.errors import InvalidInput


class ValueType(Enum):
    FLOAT = "float"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    STRING = "string"

    def coerce(self, value: Any) -> Any:
        """A stored value in this type (online stores may keep booleans as 0/1)."""
        if value is None:
            return None
        if self is ValueType.BOOLEAN:
            return bool(value)
        if self is ValueType.INTEGER:
            return int(value)
        if self is ValueType.FLOAT:
            return float(value)
        return str(value)


@dataclass(frozen=True, slots=True)
class GoldenExample:
    """A small input → expected-output case a definition must reproduce on every path.

    `events` maps a source name to its rows (column → value; times as ISO-8601 text, read as
    UTC); `at` is the time the value is computed for; `expected` is the value (None: missing).
    """

    entity: str
    at: str
    events: Mapping[str, tuple[Mapping[str, Any], ...]]
    expected: Scalar | None
    description: str = ""

    @classmethod
    def from_dict(cls, data: object, where: str) -> GoldenExample:
        mapping = as_mapping(data, where)
        refuse_unknown(mapping, ("entity", "at", "events", "expected", "description"), where)
        events = as_mapping(mapping.get("events", {}), f"{where}.events")
        rows: dict[str, tuple[Mapping[str, Any], ...]] = {}
        for source, items in events.items():
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise InvalidInput(f"{where}.events.{source}", "must be a list of rows")
            rows[str(source)] = tuple(
                {str(key): iso_text(value) for key, value in i.items()} for i in items
            )
        if "expected" not in mapping:
            raise InvalidInput(f"{where}.expected", "is required (null for a missing value)")
        at = mapping.get("at")
        return cls(
            entity=as_text(str(mapping.get("entity", "")), f"{where}.entity"),
            at=as_text(iso_text(at), f"{where}.at"),
            events=rows,
            expected=mapping["expected"],
            description=str(mapping.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "at": self.at,
            "events": {source: [dict(row) for row in rows] for source, rows in self.events.items()},
            "expected": self.expected,
            "description": self.description,
        }


def values_match(expected: Any, actual: Any, tolerance: float = 1e-9) -> bool:
    """Equal values, numbers within `tolerance` (absolute, or relative to the larger one)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected) == bool(actual) and type(expected) is type(actual)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        scale = max(abs(float(expected)), abs(float(actual)), 1.0)
        return abs(float(expected) - float(actual)) <= tolerance * scale
    return bool(expected == actual)
