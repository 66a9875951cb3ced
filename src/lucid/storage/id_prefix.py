"""Finding a stored id from the id or its first characters (`lucid.contracts.id_prefix`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, select

from lucid.contracts.id_prefix import SHOWN_MATCHES, check_prefix, chosen


def stored_id(connection: Connection, column: Column[Any], given: str, field: str) -> str | None:
    """`given` when it is a stored id of `column`, else the one id starting with it; None when
    none does. Refuses a prefix too short or the start of several ids, naming `field`."""
    if connection.execute(select(column).where(column == given)).first() is not None:
        return given
    check_prefix(given, field)
    rows = connection.execute(
        select(column)
        .where(column.startswith(given, autoescape=True))
        .order_by(column)
        .limit(SHOWN_MATCHES + 1)
    )
    return chosen(given, [str(row[0]) for row in rows], field)
