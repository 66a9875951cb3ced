"""Checks of single fields shared by the value contract's records."""

from __future__ import annotations

import math

from lucid.errors import InvalidInput


def finite(value: object, field_name: str) -> float:
    """`value` as a finite float, or a sentence naming `field_name`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field_name, f"must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field_name, f"must be a finite number, not {number}")
    return number


def text(value: object, field_name: str) -> str:
    """`value` as non-blank text, or a sentence naming `field_name`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field_name, f"must be non-empty text, not {value!r}")
    return value.strip()
