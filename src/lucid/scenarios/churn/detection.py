"""How soon the negentropic arm's daily runs saw each shock: the referee's measure, read from
the arm's stored runs once the world is over (the shock days are ground truth, used here only).

For each shock, over the runs whose window starts on or after its first day and before the
next shock's first day:

- *first flagged*: the first run at warning or critical, whatever it names, and whether any
  of its failing checks watches a column the shock changes (`related`);
- *attributed*: the first run with a failing check that watches a column the shock changes
  and that was not already failing in the last run before the shock (an alarm still ringing
  for the shock before is not a detection of this one).

A run over day X's window runs once the day has ended, so a shock flagged by the run of its
first day has a delay of 1 day: delay = window end − shock start, in days. The columns each
shock changes (`CHANGED`) follow `shocks.py`: the pandemic moves logins, purchases, app use
and the churn relation (activity, spend, the score, the business metric); the new segment moves
the segment mix and, churning more, the business metric; the regulation empties the logins,
hence the activity feature and the score; the outage silences the support tickets (their
feature, the score); the NULLs empty the purchases' amounts (the spend feature, the score);
the price change moves the plan mix and the business metric. A source's checks (`source:<name>`, and
`source:<name>.<column>`) relate as the source does: the pandemic moves the logins and
purchases sources, the regulation empties the logins source. Checks of no single column
(estimated performance, multivariate) relate to every shock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lucid.contracts.events import parse_time
from lucid.contracts.validity.records import RunRecord

FAILING = ("warning", "critical")
CHANGED: dict[str, frozenset[str | None]] = {
    "pandemic": frozenset(
        {
            "customer_activity_30d",
            "customer_spend_30d",
            "score",
            "retention_7d",
            "source:logins",
            "source:purchases",
            None,
        }
    ),
    "new_segment": frozenset({"segment", "retention_7d", None}),
    "regulation": frozenset({"customer_activity_30d", "logins", "source:logins", "score", None}),
    "source_outage": frozenset({"customer_tickets_30d", "source:support_tickets", "score", None}),
    "null_values": frozenset({"customer_spend_30d", "source:purchases", "score", None}),
    "price_change": frozenset({"plan", "retention_7d", None}),
}
"""Columns (None: checks of no single column) each kind of shock changes."""


@dataclass(frozen=True, slots=True)
class DailyRun:
    """A stored run reduced to what detection needs: its window's first day (simulated day
    index), its level and its failing checks as (metric, column, level)."""

    day: int
    end_day: int
    level: str
    failing: tuple[tuple[str, str | None, str], ...]

    @classmethod
    def of(cls, record: RunRecord, start: datetime) -> DailyRun:
        first, last = record.window.split("/")
        origin = start.replace(tzinfo=None)

        def day(text: str) -> int:
            return (parse_time(text).replace(tzinfo=None) - origin).days

        failing = tuple(
            (str(c["metric"]), c.get("feature"), str(c["level"]))
            for c in record.checks
            if c["level"] in FAILING
        )
        return cls(day(first), day(last), record.level, failing)

    def named(self) -> list[str]:
        return [f"{m}[{f}]={level}" if f else f"{m}={level}" for m, f, level in self.failing]


def _related(kind: str, check: tuple[str, str | None, str]) -> bool:
    column = check[1]
    if column is not None and column.startswith("source:"):
        column = column.split(".", 1)[0]  # a source's column relates as its source does
    return column in CHANGED.get(kind, frozenset())


def detections(
    runs: Iterable[RunRecord], shocks: Sequence[dict[str, Any]], start: datetime, days: int
) -> list[dict[str, Any]]:
    """One entry per shock (`shocks` as `World.ground_truth()` gives them)."""
    daily = sorted((DailyRun.of(r, start) for r in runs), key=lambda r: r.day)
    ordered = sorted(shocks, key=lambda s: int(s["day"]))
    found = []
    for number, shock in enumerate(ordered):
        first = int(shock["day"])
        until = int(ordered[number + 1]["day"]) if number + 1 < len(ordered) else days
        kind = str(shock["kind"])
        before = [r for r in daily if r.end_day <= first]
        ringing = {(m, f) for m, f, _ in before[-1].failing} if before else set()
        during = [r for r in daily if first <= r.day < until]
        flagged = next((r for r in during if r.level in FAILING), None)
        attributed = next(
            (
                r
                for r in during
                if any(_related(kind, c) and (c[0], c[1]) not in ringing for c in r.failing)
            ),
            None,
        )
        found.append(
            {
                "shock": kind,
                "start_day": first,
                "first_flagged_day": flagged.day if flagged else None,
                "delay_days": flagged.end_day - first if flagged else None,
                "checks": flagged.named() if flagged else [],
                "related": bool(flagged and any(_related(kind, c) for c in flagged.failing)),
                "attributed_day": attributed.day if attributed else None,
                "attributed_delay_days": attributed.end_day - first if attributed else None,
                "attributed_checks": [
                    name
                    for c, name in zip(attributed.failing, attributed.named(), strict=True)
                    if _related(kind, c) and (c[0], c[1]) not in ringing
                ]
                if attributed
                else [],
            }
        )
    return found


def false_alarms(runs: Iterable[RunRecord], first_shock: int, start: datetime) -> dict[str, Any]:
    """Runs at warning or critical over windows that ended by the first shock's start: how
    many of how many, and how often each check failed in them."""
    before = [r for r in (DailyRun.of(run, start) for run in runs) if r.end_day <= first_shock]
    failing = [r for r in before if r.level in FAILING]
    named = Counter(f"{m}[{f}]" if f else m for r in failing for m, f, _ in r.failing)
    return {
        "runs": len(before),
        "failing_runs": len(failing),
        "checks": dict(sorted(named.items())),
    }
