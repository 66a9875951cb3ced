"""The churn world's shocks: what changes in the world, and from which simulated day.

Each shock is a value: its start day (0 = the world's first day) is ground truth, exposed only
to measure how long a system took to detect it — never to drive a system's decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lucid.scenarios.churn.churn_hazard import PANDEMIC_HAZARD, HazardModel


@dataclass(frozen=True, kw_only=True)
class Shock:
    """Something that changes the world from `day` (a simulated day index) onwards."""

    day: int
    kind = "shock"

    @property
    def description(self) -> str:
        return "a shock"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "day": self.day, "description": self.description}


@dataclass(frozen=True, kw_only=True)
class PandemicShift(Shock):
    """People stay home: logins rise, purchases fall, and churn follows another relation."""

    login_factor: float = 1.8
    purchase_factor: float = 0.5
    interaction_factor: float = 1.3
    hazard: HazardModel = field(default_factory=lambda: PANDEMIC_HAZARD)
    kind = "pandemic"

    @property
    def description(self) -> str:
        return (
            f"pandemic-like shift: logins x{self.login_factor:g}, purchases "
            f"x{self.purchase_factor:g}, app interactions x{self.interaction_factor:g}; "
            "logins stop signalling loyalty, purchases signal churn, tickets weigh more"
        )


@dataclass(frozen=True, kw_only=True)
class NewSegmentArrival(Shock):
    """A new customer segment starts signing up, with a behaviour of its own."""

    segment: str = "freelancer"
    daily_signups: float = 0.004
    """New customers of the segment per day, as a share of the initial customer count."""
    kind = "new_segment"

    @property
    def description(self) -> str:
        return (
            f"new segment '{self.segment}' arrives: {self.daily_signups:.2%} of the initial "
            "base signs up per day, logging in often, buying little, churning more"
        )


@dataclass(frozen=True, kw_only=True)
class SignalRemoved(Shock):
    """A regulation change: one tracked event stops being recorded (behaviour goes on)."""

    source: str = "logins"
    share: float = 1.0
    """Share of customers whose events of `source` are no longer recorded (0..1)."""
    kind = "regulation"

    @property
    def description(self) -> str:
        who = "every customer" if self.share >= 1 else f"{self.share:.0%} of customers"
        return f"regulation change: {self.source} of {who} are no longer recorded"


def default_shocks(days: int) -> tuple[Shock, ...]:
    """The seed's three shocks at 40 %, 60 % and 80 % of a world of `days` days."""
    return (
        PandemicShift(day=round(days * 0.4)),
        NewSegmentArrival(day=round(days * 0.6)),
        SignalRemoved(day=round(days * 0.8)),
    )
