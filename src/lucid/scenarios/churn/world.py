"""The synthetic SaaS churn world: a seeded customer base lived day by day.

Customers (segment, plan, monthly price, signup) log in, buy, use the app and open support
tickets at rates driven by a latent engagement that wanders around each customer's own level;
a few bot accounts hammer the product, bots also hit real accounts, and QA replays test
purchases — all flagged (`is_bot`, `is_test`) so a canonical definition can exclude them. A
share of rows is ingested days late. Each simulated day every active customer churns with the
probability given by `churn_hazard` from their true behaviour of the last 30 days; shocks
(`shocks`) change behaviour, arrivals, prices, what is recorded and the hazard itself; a
seasonal peak raises logins and app use for a few weeks and changes nothing else.

Calibration: before any shock the world loses about 2 % of its customers a month
(`monthly_churn_pct`; 1.7–2.1 % at seed 7), and signups match it, so the base stays flat. That
sits inside what SaaS businesses report: Recurly Research's churn benchmarks put B2B SaaS
average monthly churn at about 3.5 % (voluntary about 2.6 %), and the KeyBanc (now Sapphire)
SaaS surveys a median annual gross revenue churn of about 13 %, about 1.1 % a month.

Determinism: every random draw depends only on the seed, the configuration and the day, never
on who churned or was treated, so the same seed and the same treatments give identical data,
and a treatment changes nothing but the treated customers' own churn.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lucid.errors import InvalidInput
from lucid.scenarios.churn.activity import DAY_US, Activity, Array
from lucid.scenarios.churn.churn_hazard import BASELINE_HAZARD, PLANS, SEGMENTS
from lucid.scenarios.churn.population import PLAN_PRICE, SEGMENT_PRICE, draw_population
from lucid.scenarios.churn.retention import Period, Retention
from lucid.scenarios.churn.shocks import (
    NewSegmentArrival,
    PandemicShift,
    PriceChange,
    SeasonalPeak,
    Shock,
    SignalRemoved,
    default_seasons,
    default_shocks,
)

HISTORY_DAYS = 30
"""Days simulated before day 0 (recorded, nobody churns) so day 0 starts with full windows."""

_ENGAGEMENT_PULL, _ENGAGEMENT_NOISE = 0.05, 0.12  # AR(1) towards the own level, daily step


@dataclass(frozen=True)
class WorldConfig:
    """How big the world is, its seed, when it starts, its shocks, its seasons and the
    treatment effect.

    `treatment_effect` is the relative cut of a treated customer's daily churn hazard (0..1).
    `shocks=None` means the default schedule for `days` (`default_shocks`), `seasons=None`
    the default seasonal peak (`default_seasons`).
    """

    customers: int = 5_000
    days: int = 365
    seed: int = 7
    start: datetime = datetime(2019, 1, 1)
    shocks: tuple[Shock, ...] | None = None
    treatment_effect: float = 0.5
    seasons: tuple[SeasonalPeak, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("customers", "days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(name, f"must be a whole number of at least 1 (got {value!r})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInput("seed", f"must be a whole number of at least 0 (got {self.seed!r})")
        if not 0 <= self.treatment_effect <= 1:
            raise InvalidInput("treatment_effect", "must be between 0 and 1")
        if self.shocks is None:
            object.__setattr__(self, "shocks", default_shocks(self.days))
        for shock in self.schedule:
            if not 0 <= shock.day < self.days:
                raise InvalidInput(
                    f"shocks.{shock.kind}.day", f"must fall within the {self.days} days"
                )
        if self.seasons is None:
            object.__setattr__(self, "seasons", default_seasons(self.days))
        for peak in self.peaks:
            if not 0 <= peak.day < self.days:
                raise InvalidInput("seasons.day", f"must fall within the {self.days} days")

    @property
    def schedule(self) -> tuple[Shock, ...]:
        """The shocks, resolved (never None after construction)."""
        return self.shocks or ()

    @property
    def peaks(self) -> tuple[SeasonalPeak, ...]:
        """The seasonal peaks, resolved (never None after construction)."""
        return self.seasons or ()


class World:
    """The churn world at its current simulated day; `step` moves it forward."""

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self._rng = np.random.default_rng(self.config.seed)
        self._population = draw_population(
            self._rng,
            self.config.customers,
            self.config.days,
            history_days=HISTORY_DAYS,
            arrival=self._shock(NewSegmentArrival),
            removed=self._shock(SignalRemoved),
            repriced=self._shock(PriceChange),
        )
        size = len(self._population.ids)
        self._bots = [f"bot{number:04d}" for number in range(max(2, self.config.customers // 1000))]
        self._engagement = self._population.level + 0.38 * self._rng.standard_normal(size)
        self._churn_day = np.full(size, np.nan)
        self._index = {customer: number for number, customer in enumerate(self._population.ids)}
        self._activity = Activity(
            self._rng, self._population, self._bots, HISTORY_DAYS, self.config.schedule
        )
        self._parts_written = 0
        self._unwritten: dict[str, dict[str, Array]] = {}
        self.treatments: list[tuple[int, int, frozenset[str]]] = []
        """Each step's treatment: (start day, end day, treated customer ids)."""
        self.day = -HISTORY_DAYS
        for _ in range(HISTORY_DAYS):
            self._live_one_day(np.zeros(0, dtype=np.intp))

    # --- the world's facts -----------------------------------------------------------------

    @property
    def shocks(self) -> tuple[Shock, ...]:
        """Ground truth of the shock schedule: for measuring detection delays only."""
        return self.config.schedule

    def moment(self, day: float) -> datetime:
        """The wall-clock time of a simulated day (day 0 at midnight = `config.start`)."""
        return self.config.start + timedelta(days=day)

    @property
    def now(self) -> datetime:
        """The start of the next day to simulate: everything before it has happened."""
        return self.moment(self.day)

    @property
    def finished(self) -> bool:
        return self.day >= self.config.days

    def _shock(self, kind: type[Shock]) -> Any:
        return next((shock for shock in self.shocks if isinstance(shock, kind)), None)

    def _active(self, day: float) -> npt.NDArray[np.bool_]:
        signup, churn = self._population.signup, self._churn_day
        return (signup < day) & ~(churn <= day)

    def active_customers(self) -> list[str]:
        """Ids of the customers paying now (signed up and not churned)."""
        return [self._population.ids[i] for i in np.flatnonzero(self._active(self.day))]

    # --- moving forward --------------------------------------------------------------------

    def step(self, days: int = 1, *, treated: Collection[str] = ()) -> Period:
        """Simulate `days` more days with `treated` customers' hazard cut by the treatment
        effect. Ids that are not customers (bots, unknown) are ignored."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidInput("days", f"must be a whole number of at least 1 (got {days!r})")
        if self.day + days > self.config.days:
            raise InvalidInput(
                "days",
                f"the world ends at day {self.config.days}; {self.config.days - self.day} "
                "days are left",
            )
        chosen = sorted({self._index[c] for c in treated if c in self._index})
        indices = np.array(chosen, dtype=np.intp)
        start = self.day
        churned_before = int(np.sum(~np.isnan(self._churn_day)))
        for _ in range(days):
            self._live_one_day(indices)
        self.treatments.append(
            (start, self.day, frozenset(self._population.ids[i] for i in chosen))
        )
        return Period(
            start_day=start,
            end_day=self.day,
            churned=int(np.sum(~np.isnan(self._churn_day))) - churned_before,
            treated=len(chosen),
            retention=self.retention(start, self.day),
        )

    def run(self) -> World:
        """Simulate every day left, untreated."""
        if not self.finished:
            self.step(self.config.days - self.day)
        return self

    def _live_one_day(self, treated: npt.NDArray[np.intp]) -> None:
        """One day: engagement wanders, customers churn (from day 0), everyone still present
        acts, and the day's rows are drawn; a price change moves plans at the midnight that
        starts its day."""
        rng, population, day = self._rng, self._population, self.day
        present = int(np.searchsorted(population.signup, day))
        pandemic = self._shock(PandemicShift)
        shift = pandemic if pandemic is not None and day >= pandemic.day else None
        peak = next((p for p in self.config.peaks if p.active(day)), None)

        engagement = self._engagement[:present]
        engagement += _ENGAGEMENT_PULL * (population.level[:present] - engagement)
        engagement += _ENGAGEMENT_NOISE * rng.standard_normal(present)

        # Churn at the start of the day, from the last 30 days of true behaviour.
        chance, moment = rng.random(present), rng.random(present)
        if day >= 0:
            self._churn(present, treated, chance, moment, shift)
        alive = np.isnan(self._churn_day[:present])
        self._activity.live(
            day, present, engagement, alive, shift, self._shock(SignalRemoved), peak
        )
        self.day += 1
        repriced = self._shock(PriceChange)
        if repriced is not None and self.day == repriced.day:  # effective at midnight
            self._reprice(int(np.searchsorted(population.signup, self.day)), repriced)

    def _reprice(self, present: int, change: PriceChange) -> None:
        """On a price change's day: `existing_move` of the active customers on the repriced
        plan move to its `to_plan` (at that plan's price); the others pay the new price."""
        population = self._population
        active = np.isnan(self._churn_day[:present])
        on_plan = active & (population.plan[:present] == PLANS.index(change.plan))
        moving = on_plan & (population.move[:present] < change.existing_move)
        staying = on_plan & ~moving
        population.price[:present][staying] *= change.price_factor
        population.plan[:present][moving] = PLANS.index(change.to_plan)
        population.price[:present][moving] = (
            PLAN_PRICE[PLANS.index(change.to_plan)]
            * SEGMENT_PRICE[population.segment[:present][moving]]
        )

    def _churn(
        self,
        present: int,
        treated: npt.NDArray[np.intp],
        chance: npt.NDArray[np.float64],
        moment: npt.NDArray[np.float64],
        shift: PandemicShift | None,
    ) -> None:
        """Each present customer churns today with the hazard of their last 30 days (the
        pandemic's hazard during it), cut by the treatment effect for the treated."""
        population, day = self._population, self.day
        tenure = np.clip(day - population.signup[:present], 1.0, HISTORY_DAYS)
        scale = HISTORY_DAYS / tenure
        totals = {name: t[:present] * scale for name, t in self._activity.totals.items()}
        model = shift.hazard if shift is not None else BASELINE_HAZARD
        hazard = model.daily_hazard(
            totals["logins"],
            totals["purchases"],
            totals["tickets"],
            population.plan[:present],
            population.segment[:present],
        )
        hazard[treated[treated < present]] *= 1.0 - self.config.treatment_effect
        churns = np.isnan(self._churn_day[:present]) & (chance < hazard)
        self._churn_day[:present][churns] = day + np.maximum(moment[churns], 1e-6)

    # --- ground truth ----------------------------------------------------------------------

    def retention(self, start_day: int, end_day: int) -> Retention:
        """Of the customers active at `start_day`, how many (and how much monthly revenue)
        are still active at `end_day`; both days within what has been simulated."""
        if not 0 <= start_day <= end_day <= self.day:
            raise InvalidInput(
                "end_day",
                f"the period must satisfy 0 <= start <= end <= {self.day} (the simulated days)",
            )
        at_start = self._active(start_day)
        kept = at_start & ~(self._churn_day <= end_day)
        price = self._population.price
        return Retention(
            start_day=start_day,
            end_day=end_day,
            customers_at_start=int(at_start.sum()),
            customers_retained=int(kept.sum()),
            revenue_at_start=round(float(price[at_start].sum()), 2),
            revenue_kept=round(float(price[kept].sum()), 2),
        )

    def monthly_churn_pct(self, start_day: int, end_day: int) -> float:
        """Customers churned per 30 days over days [start_day, end_day), as a percentage of
        the customers active at those days' midnights (their mean)."""
        if not 0 <= start_day < end_day <= self.day:
            raise InvalidInput(
                "end_day",
                f"the period must satisfy 0 <= start < end <= {self.day} (the simulated days)",
            )
        churn = self._churn_day
        churned = int(np.sum((churn > start_day) & (churn < end_day)))
        signup = self._population.signup
        active = [
            int(np.searchsorted(signup, day)) - int(np.sum(churn <= day))
            for day in range(start_day, end_day)
        ]
        mean_active = float(np.mean(active))
        if mean_active == 0:
            return 0.0
        return round(100 * churned / mean_active * 30 / (end_day - start_day), 3)

    def customers(self) -> pa.Table:
        """Ground truth of every customer signed up so far: customer_id, segment, plan and price
        (per month) as of now (a price change moves them), signup_at, churned_at (null while
        active)."""
        population = self._population
        present = int(np.searchsorted(population.signup, self.day))
        churn = self._churn_day[:present]
        return pa.table(
            {
                "customer_id": pa.array(population.ids[:present], pa.string()),
                "segment": pa.array(SEGMENTS).take(population.segment[:present]),
                "plan": pa.array(PLANS).take(population.plan[:present]),
                "price": pa.array(population.price[:present], pa.float64()),
                "signup_at": self._timestamps(population.signup[:present]),
                "churned_at": self._timestamps(churn, mask=np.isnan(churn)),
            }
        )

    def labels(self, snapshot_days: Iterable[int], *, horizon_days: int = 30) -> pa.Table:
        """Label rows (entity_id, timestamp, churned_within_<horizon>d as 0/1) for every
        customer active at each snapshot day's midnight; each horizon must have been lived."""
        days = sorted(set(snapshot_days))
        for day in days:
            if day < 0 or day + horizon_days > self.day:
                raise InvalidInput(
                    "snapshot_days",
                    f"day {day} plus the {horizon_days}-day horizon must fall within the "
                    f"{self.day} simulated days",
                )
        ids, moments, outcomes = [], [], []
        for day in days:
            active = np.flatnonzero(self._active(day))
            ids.append(active)
            moments.append(np.full(len(active), float(day)))
            outcomes.append((self._churn_day[active] <= day + horizon_days).astype(np.int64))
        owners = np.concatenate(ids) if ids else np.zeros(0, np.intp)
        return pa.table(
            {
                "entity_id": pa.array(self._population.ids, pa.string()).take(owners),
                "timestamp": self._timestamps(np.concatenate(moments) if moments else np.zeros(0)),
                f"churned_within_{horizon_days}d": pa.array(
                    np.concatenate(outcomes) if outcomes else np.zeros(0, np.int64)
                ),
            }
        )

    def _timestamps(
        self, days: npt.NDArray[np.float64], *, mask: npt.NDArray[np.bool_] | None = None
    ) -> pa.Array:
        """Days since the start as naive UTC timestamps (microseconds); masked ones null."""
        micros = np.round(np.nan_to_num(days) * DAY_US).astype(np.int64) + self.start_us
        return pa.array(micros, pa.timestamp("us"), mask=mask)

    @property
    def start_us(self) -> int:
        """`config.start` in microseconds since 1970-01-01 (naive UTC)."""
        return int((self.config.start - datetime(1970, 1, 1)) / timedelta(microseconds=1))

    def ground_truth(self) -> dict[str, Any]:
        """The world's size, seed, simulated days, monthly churn before the first shock (over
        the days simulated so far; None before day 1), shock schedule (with start and end
        times, and each shock's recovery floor) and seasonal peaks."""
        calm = min((shock.day for shock in self.shocks), default=self.day)
        calm = min(calm, self.day)
        return {
            "customers": self.config.customers,
            "days": self.config.days,
            "seed": self.config.seed,
            "start": self.config.start.isoformat(),
            "end": self.moment(self.config.days).isoformat(),
            "simulated_days": self.day,
            "treatment_effect": self.config.treatment_effect,
            "monthly_churn_pct": self.monthly_churn_pct(0, calm) if calm > 0 else None,
            "shocks": [
                {
                    **shock.to_dict(),
                    "changes_relation": shock.changes_relation,
                    "duration_days": shock.duration_days,
                    "floor_days": shock.floor_days,
                    "starts_at": self.moment(shock.day).isoformat(),
                    "end": None
                    if shock.end_day is None
                    else self.moment(shock.end_day).isoformat(),
                }
                for shock in self.shocks
                for end in (shock.end_day,)
            ],
            "seasons": [
                {
                    **peak.to_dict(),
                    "starts_at": self.moment(peak.day).isoformat(),
                    "end": self.moment(peak.day + peak.duration_days).isoformat(),
                }
                for peak in self.config.peaks
            ],
        }

    def take_rows(self) -> dict[str, dict[str, Array]]:
        """The rows ingested by now and not taken yet, per source, as raw columns (owner
        index, times in microseconds since `config.start`); used by `world_files`. A row
        ingested later (late, or held by an outage) is taken by the first call after its
        ingestion: a source's files never hold a row before it arrived."""
        now = self.day * DAY_US
        taken: dict[str, dict[str, Array]] = {}
        for source, columns in self._activity.take_rows().items():
            held = self._unwritten.pop(source, None)
            if held:
                columns = {
                    name: np.concatenate([held[name], values]) for name, values in columns.items()
                }
            if not columns:
                taken[source] = columns
                continue
            due = columns["ingested"] <= now
            taken[source] = {name: values[due] for name, values in columns.items()}
            if not due.all():
                self._unwritten[source] = {name: values[~due] for name, values in columns.items()}
        return taken

    @property
    def owner_ids(self) -> list[str]:
        """Customer ids then bot ids: row owner indices point into this list."""
        return [*self._population.ids, *self._bots]
