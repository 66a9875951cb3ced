"""A database driver's refusal of a value, as the sentence of a domain error.

The contracts check names and lengths before anything is written; this is the net under
them. A value the database refuses (too long for its column, a NUL character, a number out
of range, a duplicate key, a missing required value) becomes `InvalidInput` or `Conflict`
naming the column when the statement's parameters show which value it was. Errors that are
not about a value (a broken statement, a lost connection, a trigger refusing an UPDATE of
the event log) are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import String
from sqlalchemy.exc import DBAPIError

from lucid.errors import Conflict, InvalidInput, LucidError
from lucid.storage.tables import metadata

_WRITTEN_TABLE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE)\s+"?(?P<table>\w+)"?', re.IGNORECASE)
_VARCHAR = re.compile(r"character varying\((\d+)\)")
_PG_KEY = re.compile(r"Key \((?P<columns>[^)]*)\)=\((?P<values>.*)\) already exists")
_SQLITE_COLUMNS = re.compile(r"constraint failed: (?P<columns>.+)$")
_PARAMETER_SUFFIX = re.compile(r"_m?\d+$")
_INT32 = 2**31 - 1


def translated(error: BaseException) -> LucidError | None:
    """The domain error for a driver's refusal of a value; None when `error` is not one."""
    original, parameters, statement = _unwrapped(error)
    kinds = {cls.__name__ for cls in type(original).__mro__}
    if "DataError" in kinds:
        return _data_error(original, parameters, _widths(statement))
    if "IntegrityError" in kinds:
        return _integrity_error(original)
    return None


def _unwrapped(error: BaseException) -> tuple[BaseException, Any, str]:
    if isinstance(error, DBAPIError) and error.orig is not None:
        return error.orig, error.params, str(error.statement or "")
    return error, None, ""


def _widths(statement: str) -> dict[str, int]:
    """The width of each text column of the table a statement writes (empty when unknown)."""
    written = _WRITTEN_TABLE.match(statement)
    table = metadata.tables.get(written.group("table")) if written else None
    if table is None:
        return {}
    return {
        column.name: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }


def _data_error(original: BaseException, parameters: Any, widths: dict[str, int]) -> LucidError:
    message = _first_line(original)
    width = _VARCHAR.search(message)
    if width is not None:
        limit = int(width.group(1))
        for column, value in _values(parameters):
            if widths and widths.get(column) != limit:
                continue  # a wider or unbounded column holds this value
            if isinstance(value, str) and len(value) > limit:
                return InvalidInput(
                    column, f"is too long: at most {limit} characters, not {len(value)}"
                )
        return InvalidInput("value", f"a text is too long: at most {limit} characters")
    if "NUL" in message:
        for column, value in _values(parameters):
            if isinstance(value, str) and "\x00" in value:
                return InvalidInput(column, "must not contain the NUL character (0x00)")
        return InvalidInput("value", "a text must not contain the NUL character (0x00)")
    if "out of range" in message:
        numbers = [
            (abs(value), column, value)
            for column, value in _values(parameters)
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT32
        ]
        if numbers:
            _, column, value = max(numbers)
            return InvalidInput(column, f"{value} is out of the range the database stores")
        return InvalidInput("value", "a number is out of the range the database stores")
    return InvalidInput("value", f"the database refused a value: {message}")


def _integrity_error(original: BaseException) -> LucidError | None:
    message = _first_line(original)
    detail = str(getattr(getattr(original, "diag", None), "message_detail", None) or "")
    if "unique" in message.lower() or "duplicate key" in message.lower():
        key = _PG_KEY.search(detail)
        if key is not None:
            return Conflict(f"{key.group('columns')} {key.group('values')} already exists.")
        columns = _SQLITE_COLUMNS.search(message)
        named = (
            ", ".join(c.strip().rpartition(".")[2] for c in columns.group("columns").split(","))
            if columns
            else "key"
        )
        return Conflict(f"A row with the same {named} already exists.")
    column = getattr(getattr(original, "diag", None), "column_name", None)
    if "not null" in message.lower() or "null value" in message.lower():
        if column is None:
            columns = _SQLITE_COLUMNS.search(message)
            column = columns.group("columns").rpartition(".")[2] if columns else "value"
        return InvalidInput(str(column), "is required")
    return None  # a trigger's or a check's refusal is not about one value: left as it is


def _values(parameters: Any) -> Iterator[tuple[str, Any]]:
    """(column, value) pairs of a statement's named parameters (one row or many)."""
    rows = parameters if isinstance(parameters, list | tuple) else [parameters]
    for row in rows:
        if isinstance(row, Mapping):
            for key, value in row.items():
                yield _PARAMETER_SUFFIX.sub("", str(key)) or str(key), value


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
