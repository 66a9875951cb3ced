"""Rows as the NumPy arrays model libraries take: a missing value (None) becomes NaN in a
float array; a value that is not a number is refused with a sentence naming its input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lucid.errors import InvalidInput


def numeric_matrix(columns: Sequence[str], matrix: list[list[Any]], dtype: Any) -> Any:
    """`matrix` as a 2-D array of `dtype` (float32 or float64 take None as NaN)."""
    try:
        return np.array(matrix, dtype=dtype)
    except (TypeError, ValueError):
        pass
    return np.array([_numeric_row(columns, row, dtype) for row in matrix], dtype=dtype)


def numeric_column(name: str, values: list[Any], dtype: Any) -> Any:
    """One input's values as a 1-D array of `dtype`; text as an object array of str."""
    if dtype is object:
        if any(value is None for value in values):
            raise InvalidInput("rows", f"the model's input {name} takes text and a row has none")
        return np.array([str(value) for value in values], dtype=object)
    try:
        return np.array(values, dtype=dtype)
    except (TypeError, ValueError):
        return np.array([_number(name, value, dtype) for value in values], dtype=dtype)


def _numeric_row(columns: Sequence[str], row: list[Any], dtype: Any) -> list[Any]:
    return [_number(name, value, dtype) for name, value in zip(columns, row, strict=True)]


def _number(name: str, value: Any, dtype: Any) -> Any:
    floating = np.issubdtype(dtype, np.floating)
    if value is None and floating:
        return np.nan
    try:
        return float(value) if floating else int(value)
    except (TypeError, ValueError):
        kind = "a number" if floating else "an integer"
        raise InvalidInput(
            "rows", f"the model's input {name} takes {kind}, not {value!r}"
        ) from None
