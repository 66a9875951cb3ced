"""The calendar periods promotions are cut by (UTC), and their labels. Imports nothing heavy:
a command checks its `--period` before it loads anything else."""

from __future__ import annotations

from datetime import datetime

from lucid.errors import InvalidInput

PERIODS = ("month", "quarter", "year")
"""The calendar periods a tally can be cut by (UTC); `month` by default."""
WHOLE_HISTORY = "all"
"""The period label of a tally over the whole history."""


def check_period(period: object) -> str:
    """`period` if it names a calendar period the tally knows, or a sentence why not."""
    if not isinstance(period, str) or period not in PERIODS:
        raise InvalidInput("period", f"must be one of {', '.join(PERIODS)}, not {period!r}")
    return period


def period_label(moment: datetime, period: str) -> str:
    """The calendar period of an aware UTC `moment`: `2026-03`, `2026-Q1` or `2026`."""
    if period == "month":
        return f"{moment.year:04d}-{moment.month:02d}"
    if period == "quarter":
        return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"
    return f"{moment.year:04d}"
