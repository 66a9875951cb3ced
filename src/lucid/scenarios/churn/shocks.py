"""The churn world's shocks and seasons: what changes in the world, from which simulated day,
for how long.

Each shock is a value: its start day (0 = the world's first day) is ground truth, exposed only
to measure how long a system took to detect it — never to drive a system's decisions. A shock
says whether it changes how the model's inputs relate to churn (`changes_relation`: a model
must then wait for labels of the new world, the label horizon) — the pandemic changes the
behaviour-to-churn relation itself; a new segment and a price change move churn through the
segment and the plan, which the churn model does not take as inputs, so its inputs relate to
churn differently too; a removed signal leaves an input that no longer tells anything — and
how long it lasts (`duration_days`, None: permanent). A seasonal peak is not a shock:
behaviour rises and falls back with the churn relation untouched, and nothing should be
declared or flagged for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from lucid.errors import InvalidInput
from lucid.scenarios.churn.churn_hazard import PANDEMIC_HAZARD, PLANS, HazardModel

LABEL_HORIZON_DAYS = 14
"""Days a label needs to be known: no model can learn a changed relation sooner."""


@dataclass(frozen=True, kw_only=True)
class Shock:
    """Something that changes the world from `day` (a simulated day index) for
    `duration_days` days (None: for good)."""

    day: int
    duration_days: int | None = None
    kind: ClassVar[str] = "shock"
    changes_relation: ClassVar[bool] = False
    """Whether the shock changes how behaviour relates to churn."""

    def __post_init__(self) -> None:
        if self.duration_days is not None and (
            isinstance(self.duration_days, bool)
            or not isinstance(self.duration_days, int)
            or self.duration_days < 1
        ):
            raise InvalidInput(
                f"shocks.{self.kind}.duration_days",
                f"must be None (permanent) or a whole number of at least 1 "
                f"(got {self.duration_days!r})",
            )

    @property
    def description(self) -> str:
        return "a shock"

    @property
    def floor_days(self) -> int:
        """The fewest days any system needs to recover: the label horizon when the relation
        changes, else the shock's own duration (0 when permanent)."""
        return LABEL_HORIZON_DAYS if self.changes_relation else (self.duration_days or 0)

    @property
    def end_day(self) -> int | None:
        """The first day after the shock (None: permanent)."""
        return None if self.duration_days is None else self.day + self.duration_days

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "day": self.day, "description": self.description}


@dataclass(frozen=True, kw_only=True)
class PandemicShift(Shock):
    """People stay home: logins rise, purchases fall, and churn follows another relation."""

    login_factor: float = 1.8
    purchase_factor: float = 0.5
    interaction_factor: float = 1.3
    hazard: HazardModel = field(default_factory=lambda: PANDEMIC_HAZARD)
    kind: ClassVar[str] = "pandemic"
    changes_relation: ClassVar[bool] = True

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
    changes_relation: ClassVar[bool] = True
    kind: ClassVar[str] = "new_segment"

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
    changes_relation: ClassVar[bool] = True
    kind: ClassVar[str] = "regulation"

    @property
    def description(self) -> str:
        who = "every customer" if self.share >= 1 else f"{self.share:.0%} of customers"
        return f"regulation change: {self.source} of {who} are no longer recorded"


@dataclass(frozen=True, kw_only=True)
class SourceOutage(Shock):
    """A source records nothing for `duration_days`: the events still happen, and their rows
    are ingested in a burst within the hour after the source comes back."""

    source: str = "support_tickets"
    duration_days: int | None = 3
    kind: ClassVar[str] = "source_outage"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.duration_days is None:
            raise InvalidInput("shocks.source_outage.duration_days", "an outage must end")

    @property
    def description(self) -> str:
        return (
            f"{self.source} outage: nothing ingested for {self.duration_days} days, then the "
            "missing rows arrive late"
        )


@dataclass(frozen=True, kw_only=True)
class NullValues(Shock):
    """A pipeline bug writes NULL into one column of every row it ingests for
    `duration_days`; the events themselves are untouched."""

    source: str = "purchases"
    column: str = "amount"
    duration_days: int | None = 4
    kind: ClassVar[str] = "null_values"

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.source, self.column) != ("purchases", "amount"):
            raise InvalidInput("shocks.null_values.column", "only purchases.amount can be nulled")

    @property
    def description(self) -> str:
        span = "for good" if self.duration_days is None else f"for {self.duration_days} days"
        return f"pipeline writes NULL into {self.source}.{self.column} {span}"


@dataclass(frozen=True, kw_only=True)
class PriceChange(Shock):
    """A plan's price changes for good: new signups who would pick it choose the plan below
    with `signup_move` chance, and `existing_move` of its active customers move down on the
    day; those who stay pay the new price."""

    plan: str = "pro"
    price_factor: float = 1.4
    to_plan: str = "basic"
    signup_move: float = 0.4
    existing_move: float = 0.5
    changes_relation: ClassVar[bool] = True
    kind: ClassVar[str] = "price_change"

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("plan", "to_plan"):
            if getattr(self, name) not in PLANS:
                raise InvalidInput(f"shocks.price_change.{name}", f"must be one of {PLANS}")
        for name in ("signup_move", "existing_move"):
            if not 0 <= getattr(self, name) <= 1:
                raise InvalidInput(f"shocks.price_change.{name}", "must be between 0 and 1")
        if self.price_factor <= 0:
            raise InvalidInput("shocks.price_change.price_factor", "must be above 0")

    @property
    def description(self) -> str:
        return (
            f"price change: plan '{self.plan}' x{self.price_factor:g}; {self.signup_move:.0%} "
            f"of its new signups and {self.existing_move:.0%} of its customers take "
            f"'{self.to_plan}' instead"
        )


@dataclass(frozen=True, kw_only=True)
class SeasonalPeak:
    """A seasonal rise in logins and app use (end of quarter, holidays) for `duration_days`;
    purchases, tickets and the churn relation are unchanged. Not a shock: nothing to detect."""

    day: int
    duration_days: int = 21
    login_factor: float = 1.2
    interaction_factor: float = 1.2
    kind: ClassVar[str] = "seasonal_peak"

    def __post_init__(self) -> None:
        if isinstance(self.duration_days, bool) or self.duration_days < 1:
            raise InvalidInput("seasons.duration_days", "must be a whole number of at least 1")

    @property
    def description(self) -> str:
        return (
            f"seasonal peak: logins x{self.login_factor:g}, app interactions "
            f"x{self.interaction_factor:g} for {self.duration_days} days (not drift)"
        )

    def active(self, day: float) -> bool:
        return self.day <= day < self.day + self.duration_days

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "day": self.day,
            "duration_days": self.duration_days,
            "description": self.description,
        }


SHOCK_SHARES = (
    (SourceOutage, 0.3),
    (PandemicShift, 0.4),
    (NullValues, 0.5),
    (NewSegmentArrival, 0.6),
    (PriceChange, 0.7),
    (SignalRemoved, 0.8),
)
"""The default schedule: each kind of shock at its share of the world's days."""


def default_shocks(days: int) -> tuple[Shock, ...]:
    """The six shocks at 30 % (outage), 40 % (pandemic), 50 % (NULLs), 60 % (new segment),
    70 % (price change) and 80 % (regulation) of a world of `days` days: at 365 days the
    first comes after 110 calm days and each lies 36 or 37 days from the next."""
    return tuple(kind(day=round(days * share)) for kind, share in SHOCK_SHARES)


def default_seasons(days: int) -> tuple[SeasonalPeak, ...]:
    """One three-week peak from 17 % of the days: after the first model's month of service
    and ending before the first default shock."""
    return (SeasonalPeak(day=round(days * 0.17)),)
