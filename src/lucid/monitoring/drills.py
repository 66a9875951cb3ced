"""Drift drills: shift a copy of a window by a known amount and prove the policy grades it.

No run is stored and no action is taken; the drill's result is recorded as a
`DriftDrillPerformed` event (the seed's "tests d'incident").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lucid.contracts.events import NewEvent
from lucid.contracts.monitoring_events import DriftDrillPerformed
from lucid.contracts.registry_events import model_subject
from lucid.contracts.validity.evaluation import PolicyEvaluation
from lucid.contracts.validity.grades import Level
from lucid.contracts.validity.metrics import Measurement
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.validity.profiles import NumericProfile, ReferenceProfile
from lucid.errors import InvalidInput
from lucid.monitoring.windows import Window
from lucid.ports import ComputeEngine

if TYPE_CHECKING:
    import pyarrow as pa

_SHIFT = re.compile(r"(?P<column>[^=]+)=(?P<op>[+\-*])(?P<amount>[0-9]+(?:\.[0-9]+)?)(?P<sd>sd)?")


@dataclass(frozen=True, slots=True)
class Shift:
    """A drill's shift: add `amount` (× the reference std when `in_sd`) or multiply."""

    column: str
    op: str
    amount: float
    in_sd: bool

    @classmethod
    def parse(cls, spec: str) -> Shift:
        found = _SHIFT.fullmatch(spec.replace(" ", ""))
        if found is None:
            raise InvalidInput(
                "shift",
                f"{spec!r} must be COLUMN=+Xsd, COLUMN=-X (absolute) or COLUMN=*X (factor)",
            )
        if found["op"] == "*" and found["sd"]:
            raise InvalidInput("shift", f"{spec!r}: a factor takes no 'sd'")
        return cls(found["column"], found["op"], float(found["amount"]), bool(found["sd"]))

    def __str__(self) -> str:
        return f"{self.column}={self.op}{self.amount:g}{'sd' if self.in_sd else ''}"


@dataclass(frozen=True, slots=True)
class DrillReport:
    model: str
    version: str
    window: Window
    shifts: tuple[Shift, ...]
    evaluation: PolicyEvaluation
    expected: Level | None
    rows: int

    @property
    def passed(self) -> bool | None:
        return None if self.expected is None else self.evaluation.level >= self.expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "window": self.window.key,
            "rows": self.rows,
            "shifts": [str(s) for s in self.shifts],
            "expected_level": None if self.expected is None else self.expected.value,
            "passed": self.passed,
            **self.evaluation.to_dict(),
        }

    def event(self, actor: str) -> NewEvent:
        """The `DriftDrillPerformed` event that records this drill."""
        shifts = [str(s) for s in self.shifts]
        return NewEvent.of(
            DriftDrillPerformed(
                self.model,
                self.window.key,
                shifts,
                self.evaluation.level.value,
                [str(a) for a in self.evaluation.actions],
                None if self.expected is None else self.expected.value,
                self.passed,
            ),
            actor=actor,
            subject=model_subject(self.model),
            rationale=f"drift drill on a copy of {self.window.key}: "
            f"{', '.join(shifts)} → {self.evaluation.level.value}",
        )


def parse_drill(
    shifts: Sequence[str], expect: Level | str | None
) -> tuple[tuple[Shift, ...], Level | None]:
    """The shifts of a drill (at least one) and the level it expects, if any."""
    if not shifts:
        raise InvalidInput("shift", "a drill needs at least one shift, e.g. tenure=+0.5sd")
    parsed = tuple(Shift.parse(spec) for spec in shifts)
    if expect is None:
        return parsed, None
    try:
        return parsed, Level(expect)
    except ValueError:
        known = ", ".join(level.value for level in Level)
        raise InvalidInput("expect", f"{expect!r} is not a level ({known})") from None


def shifted(table: pa.Table, profile: ReferenceProfile, shifts: Sequence[Shift]) -> pa.Table:
    """A copy of `table` with every shift applied to its numeric column."""
    import pyarrow.compute as pc

    for shift in shifts:
        column = profile.overall.columns.get(shift.column)
        if not isinstance(column, NumericProfile):
            numeric = [n for n, c in profile.overall.columns.items() if c.kind == "numeric"]
            raise InvalidInput(
                "shift",
                f"{shift.column} is not a numeric column of the reference profile "
                f"(numeric: {', '.join(numeric) or 'none'})",
            )
        amount = shift.amount * (column.std or 0.0) if shift.in_sd else shift.amount
        values = table[shift.column]
        if shift.op == "*":
            moved = pc.multiply(values, amount)
        else:
            moved = pc.add(values, amount if shift.op == "+" else -amount)
        table = table.set_column(table.schema.get_field_index(shift.column), shift.column, moved)
    return table


def grade(
    engine: ComputeEngine,
    table: str,
    profile: ReferenceProfile,
    policy: MonitoringPolicy,
    labelled: bool,
    business: Measurement | None,
) -> PolicyEvaluation:
    """The policy's grade of the shifted window registered as `table`."""
    from lucid.monitoring.runs import measure_window

    measured = measure_window(engine, table, profile, policy, labelled=labelled)
    return policy.evaluate([*measured, *([business] if business else [])])
