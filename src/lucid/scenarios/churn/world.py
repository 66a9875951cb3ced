"""The synthetic SaaS churn world: a seeded customer base lived day by day.

Customers (segment, plan, monthly price, signup) log in, buy, use the app and open support
tickets at rates driven by a latent engagement that wanders around each customer's own level;
a few bot accounts hammer the product, bots also hit real accounts, and QA replays test
purchases — all flagged (`is_bot`, `is_test`) so a canonical definition can exclude them. A
share of rows is ingested days late. Each simulated day every active customer churns with the
probability given by `churn_hazard` from their true behaviour of the last 30 days; shocks
(`shocks`) change behaviour, arrivals, what is recorded and the hazard itself.

Determinism: every random draw depends only on the seed, the configuration and the day, never
on who churned or was treated, so the same seed and the same treatments give identical data,
and a treatment changes nothing but the treated customers' own churn.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lucid.errors import InvalidInput
from lucid.scenarios.churn.churn_hazard import BASELINE_HAZARD, PLANS, SEGMENTS
from lucid.scenarios.churn.shocks import (
    NewSegmentArrival,
    PandemicShift,
    Shock,
    SignalRemoved,
    default_shocks,
)

HISTORY_DAYS = 30
"""Days simulated before day 0 (recorded, nobody churns) so day 0 starts with full windows."""

DAY_US = 86_400_000_000
"""Microseconds in a day: every time in the world is an integer count of them."""

SOURCES = ("purchases", "logins", "app_interactions", "support_tickets")
SCREENS = ("dashboard", "reports", "settings", "billing", "integrations", "export")
SEVERITIES = ("low", "normal", "high", "urgent")

# Per segment (smb, mid, enterprise, freelancer): initial share, price multiplier, mean
# engagement (log scale), and daily event rates at engagement 0.
_SEGMENT_SHARE = np.array([0.6, 0.3, 0.1])
_SEGMENT_PRICE = np.array([1.0, 2.5, 8.0, 0.5])
_SEGMENT_ENGAGEMENT = np.array([0.0, 0.2, 0.4, 0.3])
_LOGIN_RATE = np.array([0.5, 0.6, 0.7, 1.1])
_PURCHASE_RATE = np.array([0.06, 0.07, 0.08, 0.015])
_INTERACTION_RATE = np.array([0.6, 0.7, 0.8, 1.0])
_TICKET_RATE = np.array([0.01, 0.012, 0.02, 0.015])
# Plan choice per segment (basic, pro, team) and monthly list price per plan.
_PLAN_SHARE = np.array([[0.6, 0.35, 0.05], [0.3, 0.5, 0.2], [0.1, 0.4, 0.5], [0.8, 0.2, 0.0]])
_PLAN_PRICE = np.array([29.0, 79.0, 199.0])
_BASE_SIGNUPS = 0.0015  # new customers per day, share of the initial count
_ENGAGEMENT_PULL, _ENGAGEMENT_NOISE = 0.05, 0.12  # AR(1) towards the own level, daily step
_LATE_SHARE = 0.03  # rows ingested 1 to 5 days after the event
_BOT_TRAFFIC = 0.05  # bot logins on real accounts, share of real logins
_TEST_SHARE = 0.05  # test purchases on real accounts, share of real purchases
_BOT_RATES = {"purchases": 20.0, "logins": 120.0, "app_interactions": 200.0}  # per bot, daily

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class WorldConfig:
    """How big the world is, its seed, when it starts, its shocks and the treatment effect.

    `treatment_effect` is the relative cut of a treated customer's daily churn hazard (0..1).
    `shocks=None` means the default schedule for `days` (`default_shocks`).
    """

    customers: int = 5_000
    days: int = 365
    seed: int = 7
    start: datetime = datetime(2019, 1, 1)
    shocks: tuple[Shock, ...] | None = None
    treatment_effect: float = 0.5

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

    @property
    def schedule(self) -> tuple[Shock, ...]:
        """The shocks, resolved (never None after construction)."""
        return self.shocks or ()


@dataclass(frozen=True)
class Retention:
    """Customers active at a period's start and how many of them (and of their monthly
    revenue, in the price's currency per month) are still active at its end."""

    start_day: int
    end_day: int
    customers_at_start: int
    customers_retained: int
    revenue_at_start: float
    revenue_kept: float

    @property
    def retention_rate(self) -> float:
        """Share (0..1) of the customers active at the start still active at the end."""
        return self.customers_retained / self.customers_at_start if self.customers_at_start else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_day": self.start_day,
            "end_day": self.end_day,
            "customers_at_start": self.customers_at_start,
            "customers_retained": self.customers_retained,
            "retention_rate": self.retention_rate,
            "revenue_at_start": self.revenue_at_start,
            "revenue_kept": self.revenue_kept,
        }


@dataclass(frozen=True)
class Period:
    """What one `World.step` simulated: days [start_day, end_day), churns, treatments."""

    start_day: int
    end_day: int
    churned: int
    treated: int
    retention: Retention


@dataclass
class _Population:
    """Every customer the world will ever have, sorted by signup (days since start)."""

    ids: list[str]
    signup: npt.NDArray[np.float64]
    segment: npt.NDArray[np.int8]
    plan: npt.NDArray[np.int8]
    price: npt.NDArray[np.float64]
    level: npt.NDArray[np.float64]  # own engagement level, log scale
    budget: npt.NDArray[np.float64]  # own propensity to buy add-ons, log scale
    tracking_refused: npt.NDArray[np.bool_]  # under a SignalRemoved shock's share


@dataclass
class _Rows:
    """One source's rows generated but not yet written, as column chunks."""

    columns: dict[str, list[Array]] = field(default_factory=dict)

    def add(self, **chunk: Array) -> None:
        for name, values in chunk.items():
            self.columns.setdefault(name, []).append(values)

    def take(self) -> dict[str, Array]:
        """The pending columns concatenated; the builder is emptied."""
        taken = {name: np.concatenate(chunks) for name, chunks in self.columns.items()}
        self.columns = {}
        return taken


class World:
    """The churn world at its current simulated day; `step` moves it forward."""

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self._rng = np.random.default_rng(self.config.seed)
        self._population = self._populate()
        size = len(self._population.ids)
        self._bots = [f"bot{number:04d}" for number in range(max(2, self.config.customers // 1000))]
        self._engagement = self._population.level + 0.38 * self._rng.standard_normal(size)
        self._history = {
            name: np.zeros((HISTORY_DAYS, size), dtype=np.int32)
            for name in ("logins", "purchases", "tickets")
        }
        self._churn_day = np.full(size, np.nan)
        self._index = {customer: number for number, customer in enumerate(self._population.ids)}
        self._rows = {name: _Rows() for name in SOURCES}
        self._parts_written = 0
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
        rng, population, day = self._rng, self._population, self.day
        present = int(np.searchsorted(population.signup, day))
        segment = population.segment[:present]
        pandemic = self._shock(PandemicShift)
        in_pandemic = pandemic is not None and day >= pandemic.day

        engagement = self._engagement[:present]
        engagement += _ENGAGEMENT_PULL * (population.level[:present] - engagement)
        engagement += _ENGAGEMENT_NOISE * rng.standard_normal(present)

        # Churn at the start of the day, from the last 30 days of true behaviour.
        chance, moment = rng.random(present), rng.random(present)
        if day >= 0:
            tenure = np.clip(day - population.signup[:present], 1.0, HISTORY_DAYS)
            scale = HISTORY_DAYS / tenure
            totals = {name: h[:, :present].sum(axis=0) * scale for name, h in self._history.items()}
            model = pandemic.hazard if in_pandemic else BASELINE_HAZARD
            hazard = model.daily_hazard(
                totals["logins"],
                totals["purchases"],
                totals["tickets"],
                population.plan[:present],
                segment,
            )
            hazard[treated[treated < present]] *= 1.0 - self.config.treatment_effect
            churns = np.isnan(self._churn_day[:present]) & (chance < hazard)
            self._churn_day[:present][churns] = day + np.maximum(moment[churns], 1e-6)
        alive = np.isnan(self._churn_day[:present])

        level = np.exp(engagement)
        factors = (
            (pandemic.login_factor, pandemic.purchase_factor, pandemic.interaction_factor)
            if in_pandemic
            else (1.0, 1.0, 1.0)
        )
        logins = rng.poisson(_LOGIN_RATE[segment] * level * factors[0])
        spending = np.exp(0.6 * engagement + population.budget[:present])
        purchases = rng.poisson(_PURCHASE_RATE[segment] * spending * factors[1])
        interactions = rng.poisson(_INTERACTION_RATE[segment] * level * factors[2])
        tickets = rng.poisson(_TICKET_RATE[segment] / np.sqrt(level))
        slot = day % HISTORY_DAYS
        for name, counts in (("logins", logins), ("purchases", purchases), ("tickets", tickets)):
            self._history[name][slot, :] = 0
            self._history[name][slot, :present] = counts

        bots = len(self._bots)
        size = len(population.ids)
        self._events("logins", np.repeat(np.arange(present), logins), alive, False)
        self._events(
            "logins", rng.integers(0, present, rng.poisson(_BOT_TRAFFIC * logins.sum())), None, True
        )
        self._events(
            "logins",
            size + np.repeat(np.arange(bots), rng.poisson(_BOT_RATES["logins"], bots)),
            None,
            True,
        )
        self._events("purchases", np.repeat(np.arange(present), purchases), alive, False)
        self._events(
            "purchases",
            rng.integers(0, present, rng.poisson(_TEST_SHARE * purchases.sum())),
            None,
            False,
            test=True,
        )
        self._events(
            "purchases",
            size + np.repeat(np.arange(bots), rng.poisson(_BOT_RATES["purchases"], bots)),
            None,
            True,
        )
        self._events("app_interactions", np.repeat(np.arange(present), interactions), alive, False)
        self._events(
            "app_interactions",
            size + np.repeat(np.arange(bots), rng.poisson(_BOT_RATES["app_interactions"], bots)),
            None,
            True,
        )
        self._events("support_tickets", np.repeat(np.arange(present), tickets), alive, False)
        self.day += 1

    def _events(
        self,
        source: str,
        owners: npt.NDArray[np.intp],
        alive: npt.NDArray[np.bool_] | None,
        is_bot: bool,
        *,
        test: bool = False,
    ) -> None:
        """Draw the rows' times, lags and attributes for every drawn event, then keep those
        whose owner is alive and whose source still records them."""
        rng, count = self._rng, len(owners)
        at = self.day * DAY_US + (rng.random(count) * DAY_US).astype(np.int64)
        late = rng.random(count) < _LATE_SHARE
        lag_days = np.where(late, rng.uniform(1.0, 5.0, count), rng.uniform(1e-5, 7e-3, count))
        columns: dict[str, Array] = {
            "owner": owners,
            "at": at,
            "ingested": at + (lag_days * DAY_US).astype(np.int64),
        }
        if source == "purchases":
            amounts = np.round(rng.lognormal(3.0, 0.6, count), 2)
            columns["amount"] = np.where(test, 1.0, amounts)
            columns["is_test"] = np.full(count, test)
        if source == "app_interactions":
            columns["screen"] = rng.integers(0, len(SCREENS), count).astype(np.int8)
        if source == "support_tickets":
            columns["severity"] = rng.choice(len(SEVERITIES), count, p=[0.4, 0.4, 0.15, 0.05])
        else:
            columns["is_bot"] = np.full(count, is_bot)
        keep = np.ones(count, dtype=bool)
        if alive is not None:
            keep &= alive[owners]
        removed = self._shock(SignalRemoved)
        if removed is not None and removed.source == source and self.day >= removed.day:
            refused = np.append(self._population.tracking_refused, np.ones(len(self._bots), bool))
            keep &= ~refused[owners]
        self._rows[source].add(**{name: values[keep] for name, values in columns.items()})

    def _populate(self) -> _Population:
        """Draw the initial customers (signed up within 3 years before day 0) and every later
        signup, with the new segment's arrivals from its shock's day."""
        rng, config = self._rng, self.config
        initial = config.customers
        segment0 = rng.choice(3, size=initial, p=_SEGMENT_SHARE)
        signup0 = -rng.uniform(HISTORY_DAYS, 3 * 365, initial)
        signups = rng.poisson(_BASE_SIGNUPS * initial, config.days)
        arrival = self._shock(NewSegmentArrival)
        newcomers = rng.poisson(
            (arrival.daily_signups if arrival else 0.0) * initial, config.days
        ) * (np.arange(config.days) >= (arrival.day if arrival else config.days))
        base_days = np.repeat(np.arange(config.days), signups)
        new_days = np.repeat(np.arange(config.days), newcomers)
        segment = np.concatenate(
            [
                segment0,
                rng.choice(3, size=len(base_days), p=_SEGMENT_SHARE),
                np.full(len(new_days), SEGMENTS.index("freelancer")),
            ]
        ).astype(np.int8)
        signup = np.concatenate(
            [signup0, base_days + rng.random(len(base_days)), new_days + rng.random(len(new_days))]
        )
        order = np.argsort(signup, kind="stable")
        signup, segment = signup[order], segment[order]
        size = len(signup)
        cumulative = np.cumsum(_PLAN_SHARE, axis=1)[segment]
        plan = (rng.random(size)[:, None] > cumulative[:, :-1]).sum(axis=1).astype(np.int8)
        removed = self._shock(SignalRemoved)
        return _Population(
            ids=[f"c{number:06d}" for number in range(size)],
            signup=signup,
            segment=segment,
            plan=plan,
            price=_PLAN_PRICE[plan] * _SEGMENT_PRICE[segment],
            level=_SEGMENT_ENGAGEMENT[segment] + 0.6 * rng.standard_normal(size),
            budget=0.5 * rng.standard_normal(size),
            tracking_refused=rng.random(size) < (removed.share if removed else 0.0),
        )

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

    def customers(self) -> pa.Table:
        """Ground truth of every customer signed up so far: customer_id, segment, plan, price
        (per month), signup_at, churned_at (null while active)."""
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
        """The world's size, seed, simulated days and shock schedule (with start times)."""
        return {
            "customers": self.config.customers,
            "days": self.config.days,
            "seed": self.config.seed,
            "start": self.config.start.isoformat(),
            "simulated_days": self.day,
            "treatment_effect": self.config.treatment_effect,
            "shocks": [
                {**shock.to_dict(), "starts_at": self.moment(shock.day).isoformat()}
                for shock in self.shocks
            ],
        }

    def take_rows(self) -> dict[str, dict[str, Array]]:
        """The rows generated since the last call, per source, as raw columns (owner index,
        times in microseconds since `config.start`); used by `world_files`."""
        return {name: rows.take() for name, rows in self._rows.items()}

    @property
    def owner_ids(self) -> list[str]:
        """Customer ids then bot ids: row owner indices point into this list."""
        return [*self._population.ids, *self._bots]
