"""Sealing the prediction log: the rows of closed UTC days moved into columnar segments.

The serving path and small batches write rows (crash-safe at once); a seal later writes the
rows of one model and one UTC day that has ended as segments of at most `SEAL_ROWS` rows,
with the columns a batch of the same rows would get (`prediction_tables.rows_table`: same
ids, versions, entities, served-at times, scores, arms; features typed by the same rule).
Each segment is registered and its rows deleted in one transaction
(`lucid.storage.prediction_seal`), so sealing twice is a no-op and a crash leaves the rows or
the segment, never both and never neither. The outcome rows logged on ended days are sealed
the same way into outcome segments, and the served feature values (`served_features`) of
ended days into served segments (`lucid.storage.served_segments`), ids kept; a seal of one
model (`model=`) leaves served values, which belong to no model, as rows.

A seal records no event: it decides nothing and changes no prediction, only where it is
kept. The segment's registration (model, day, rows, SHA-256) is its governance record, and
`lucid events verify` rehashes every segment: prediction, outcome and served value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lucid.contracts.value import validate_model_name
from lucid.errors import InvalidInput, NotFound
from lucid.monitoring.prediction_tables import rows_table
from lucid.ports.monitoring import PredictionLog

SEAL_ROWS = 100_000
"""Rows per sealed segment at most: one seal transaction deletes this many rows by id."""


@dataclass
class SealReport:
    """What a seal moved: rows served before `before` (a UTC day), per (model, day)."""

    before: str
    days: list[dict[str, Any]] = field(default_factory=list)
    outcome_days: list[dict[str, Any]] = field(default_factory=list)
    """Outcome rows logged before `before`, per (model, day of logging)."""
    served_days: list[dict[str, Any]] = field(default_factory=list)
    """Served feature values served before `before`, per day (a seal of every model)."""

    @property
    def rows(self) -> int:
        return sum(int(day["rows"]) for day in self.days)

    @property
    def segments(self) -> int:
        return sum(int(day["segments"]) for day in self.days)

    @property
    def outcomes(self) -> int:
        return sum(int(day["rows"]) for day in self.outcome_days)

    @property
    def outcome_segments(self) -> int:
        return sum(int(day["segments"]) for day in self.outcome_days)

    @property
    def served(self) -> int:
        return sum(int(day["rows"]) for day in self.served_days)

    @property
    def served_segments(self) -> int:
        return sum(int(day["segments"]) for day in self.served_days)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "rows": self.rows,
            "segments": self.segments,
            "days": self.days,
            "outcomes": self.outcomes,
            "outcome_segments": self.outcome_segments,
            "outcome_days": self.outcome_days,
            "served": self.served,
            "served_segments": self.served_segments,
            "served_days": self.served_days,
        }


def seal_predictions(
    log: PredictionLog,
    *,
    now: datetime,
    model: str | None = None,
    before: str | date | None = None,
    rows_per_segment: int = SEAL_ROWS,
    registered: Callable[[str], bool] | None = None,
) -> SealReport:
    """Seal the rows (of `model`, every model when None) served before the UTC day `before`
    (`YYYY-MM-DD`; today when None, and never later: today's rows are still being written).
    With `registered`, a model it does not know and that has nothing logged is not found."""
    if model is not None:
        try:
            validate_model_name(model)
        except InvalidInput as error:
            raise InvalidInput("model", error.rule) from None
        if registered is not None and not registered(model) and log.counts(model) == (0, 0):
            raise NotFound(
                f"No model {model} is registered and nothing of it is logged; nothing to seal."
            )
    today = now.astimezone(UTC).date()
    day = today if before is None else _day(before)
    if day > today:
        raise InvalidInput("before", f"must be a UTC day not after today ({today}), not {day}")
    report = SealReport(day.isoformat())
    bound = f"{day.isoformat()}T00:00:00.000000Z"
    for of, served_on in log.sealable_days(bound, model):
        moved = segments = 0
        while True:
            rows = log.sealable_rows(of, served_on, bound, rows_per_segment)
            if not rows:
                break
            sealed = log.seal(of, rows_table(rows))
            if not sealed:  # another seal moved some of them first
                break
            moved, segments = moved + sealed, segments + 1
            if len(rows) < rows_per_segment:
                break
        if moved:
            report.days.append({"model": of, "day": served_on, "rows": moved, "segments": segments})
    for of, logged_on in log.sealable_outcome_days(bound, model):
        moved = segments = 0
        while True:
            outcomes = log.sealable_outcomes(of, logged_on, bound, rows_per_segment)
            sealed = log.seal_outcomes(of, outcomes) if outcomes else 0
            if not sealed:  # none left, or another seal moved some of them first
                break
            moved, segments = moved + sealed, segments + 1
            if len(outcomes) < rows_per_segment:
                break
        if moved:
            report.outcome_days.append(
                {"model": of, "day": logged_on, "rows": moved, "segments": segments}
            )
    if model is None:
        _seal_served(log, bound, rows_per_segment, report)
    return report


def _seal_served(log: PredictionLog, bound: str, limit: int, report: SealReport) -> None:
    """Seal the served feature values served before `bound`, day by day, in id order."""
    for served_on in log.sealable_served_days(bound):
        moved = segments = 0
        while True:
            rows = log.sealable_served(served_on, bound, limit)
            sealed = log.seal_served(rows) if rows else 0
            if not sealed:  # none left, or another seal moved some of them first
                break
            moved, segments = moved + sealed, segments + 1
            if len(rows) < limit:
                break
        if moved:
            report.served_days.append({"day": served_on, "rows": moved, "segments": segments})


def _day(value: str | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("before", f"must be a UTC day YYYY-MM-DD, not {value!r}") from None
