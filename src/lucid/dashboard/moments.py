"""How the dashboard writes a moment: to the minute, in UTC (`2026-11-04 06:00`), a window as
`start → end`. The log keeps exact canonical UTC text (`2026-11-04T06:00:00.000000Z`); a page
shows it in a cell's title and the short form in its text, and rewrites the moments inside
free text (an event's rationale, a chart's tooltip) the same way."""

from __future__ import annotations

import re

_MOMENT = (
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|\+00:00)?"
    r"(?![:\d]|\.\d|[+-]\d{2}:\d{2})"
)
"""A UTC moment (`Z`, `+00:00` or no zone) and its day and minute; not one with another offset."""
_WINDOW = re.compile(_MOMENT + "/" + _MOMENT)
_ONE = re.compile(_MOMENT)


def readable(text: object) -> str:
    """`text` with every UTC moment in it written to the minute and every window `a/b` as
    `a → b`; a moment with another offset is left as it is."""
    shown = _WINDOW.sub(r"\1 \2 → \3 \4", str(text))
    return _ONE.sub(r"\1 \2", shown)
