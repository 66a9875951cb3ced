"""What the churn world's customers, bots and QA do each day, as the rows the sources record.

Customers log in, buy, use the app and open support tickets at rates driven by their latent
engagement (a pandemic shift scales them); a few bot accounts hammer the product, bots also hit
real accounts, and QA replays test purchases — all flagged (`is_bot`, `is_test`) so a canonical
definition can exclude them. A share of rows is ingested days late; a removed signal stops
recording the rows of the customers who refused tracking; a source outage holds back every
row it would have ingested until the source comes back; a pipeline writing NULLs blanks the
purchase amount of every row it ingests (NaN here, null in the files). A seasonal peak raises
logins and app use. The true counts of logins, purchases and tickets over the last days are
kept, as running sums, for the churn hazard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lucid.scenarios.churn.population import (
    INTERACTION_RATE,
    LOGIN_RATE,
    PURCHASE_RATE,
    TICKET_RATE,
    Population,
)
from lucid.scenarios.churn.shocks import (
    NullValues,
    PandemicShift,
    SeasonalPeak,
    Shock,
    SignalRemoved,
    SourceOutage,
)

DAY_US = 86_400_000_000
"""Microseconds in a day: every time in the world is an integer count of them."""

SOURCES = ("purchases", "logins", "app_interactions", "support_tickets")
SCREENS = ("dashboard", "reports", "settings", "billing", "integrations", "export")
SEVERITIES = ("low", "normal", "high", "urgent")

_LATE_SHARE = 0.03  # rows ingested 1 to 5 days after the event
_BOT_TRAFFIC = 0.05  # bot logins on real accounts, share of real logins
_TEST_SHARE = 0.05  # test purchases on real accounts, share of real purchases
_BOT_RATES = {"purchases": 20.0, "logins": 120.0, "app_interactions": 200.0}  # per bot, daily
_BACKFILL_US = 3_600_000_000  # an outage's held rows are ingested within the hour after it

Array = npt.NDArray[Any]


@dataclass
class PendingRows:
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


class Activity:
    """The world's daily activity: its draws (from the world's generator, in a fixed order),
    the rows not yet written, and the true counts of the last `window_days` days."""

    def __init__(
        self,
        rng: np.random.Generator,
        population: Population,
        bots: list[str],
        window_days: int,
        shocks: tuple[Shock, ...] = (),
    ) -> None:
        self._rng = rng
        self._population = population
        self._bots = bots
        size = len(population.ids)
        self.history = {
            name: np.zeros((window_days, size), dtype=np.int32)
            for name in ("logins", "purchases", "tickets")
        }
        """True daily counts per customer, one row per day of the window (day % window)."""
        self.totals = {name: np.zeros(size, dtype=np.int32) for name in self.history}
        """True counts per customer over the window: the sum of `history`'s rows."""
        self._refused = np.append(population.tracking_refused, np.ones(len(bots), bool))
        self._outages = [s for s in shocks if isinstance(s, SourceOutage)]
        self._nulls = [s for s in shocks if isinstance(s, NullValues)]
        self._rows = {name: PendingRows() for name in SOURCES}
        self._day = 0
        self._removed: SignalRemoved | None = None

    def live(
        self,
        day: int,
        present: int,
        engagement: npt.NDArray[np.float64],
        alive: npt.NDArray[np.bool_],
        shift: PandemicShift | None,
        removed: SignalRemoved | None,
        peak: SeasonalPeak | None = None,
    ) -> None:
        """Day `day`'s logins, purchases, app interactions and tickets of the `present` first
        customers (kept in the history), plus bot traffic and test purchases, as rows; `alive`
        says who has not churned, `shift` the pandemic under way, `removed` the signal no
        longer recorded, `peak` the seasonal peak under way."""
        self._day, self._removed = day, removed
        rng, population, segment = self._rng, self._population, self._population.segment[:present]
        level = np.exp(engagement)
        login, purchase, interaction = (
            (shift.login_factor, shift.purchase_factor, shift.interaction_factor)
            if shift is not None
            else (1.0, 1.0, 1.0)
        )
        if peak is not None:
            login, interaction = login * peak.login_factor, interaction * peak.interaction_factor
        logins = rng.poisson(LOGIN_RATE[segment] * level * login)
        spending = np.exp(0.6 * engagement + population.budget[:present])
        purchases = rng.poisson(PURCHASE_RATE[segment] * spending * purchase)
        interactions = rng.poisson(INTERACTION_RATE[segment] * level * interaction)
        tickets = rng.poisson(TICKET_RATE[segment] / np.sqrt(level))
        slot = day % len(self.history["logins"])
        for name, counts in (("logins", logins), ("purchases", purchases), ("tickets", tickets)):
            row, total = self.history[name][slot], self.totals[name]
            total[:present] -= row[:present]
            row[:present] = counts
            total[:present] += row[:present]

        self._record(present, alive, logins, purchases, interactions, tickets)

    def _record(
        self,
        present: int,
        alive: npt.NDArray[np.bool_],
        logins: Array,
        purchases: Array,
        interactions: Array,
        tickets: Array,
    ) -> None:
        """The day's rows, source by source: the customers' own events (kept while they are
        alive), bot logins on real accounts, QA's test purchases, the bot accounts' events."""
        rng = self._rng
        self._events("logins", np.repeat(np.arange(present), logins), alive, False)
        self._events(
            "logins", rng.integers(0, present, rng.poisson(_BOT_TRAFFIC * logins.sum())), None, True
        )
        self._events("logins", self._bot_owners("logins"), None, True)
        self._events("purchases", np.repeat(np.arange(present), purchases), alive, False)
        self._events(
            "purchases",
            rng.integers(0, present, rng.poisson(_TEST_SHARE * purchases.sum())),
            None,
            False,
            test=True,
        )
        self._events("purchases", self._bot_owners("purchases"), None, True)
        self._events("app_interactions", np.repeat(np.arange(present), interactions), alive, False)
        self._events("app_interactions", self._bot_owners("app_interactions"), None, True)
        self._events("support_tickets", np.repeat(np.arange(present), tickets), alive, False)

    def _bot_owners(self, source: str) -> Array:
        """The owners of the bot accounts' events of `source` today (indices after the
        customers')."""
        bots = len(self._bots)
        size = len(self._population.ids)
        return size + np.repeat(np.arange(bots), self._rng.poisson(_BOT_RATES[source], bots))

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
        at = self._day * DAY_US + (rng.random(count) * DAY_US).astype(np.int64)
        draw = rng.random(count)
        late = draw < _LATE_SHARE
        lag_days = np.where(
            late,
            1.0 + 4.0 * draw / _LATE_SHARE,
            1e-5 + (7e-3 - 1e-5) * (draw - _LATE_SHARE) / (1.0 - _LATE_SHARE),
        )
        columns: dict[str, Array] = {
            "owner": owners,
            "at": at,
            "ingested": at + (lag_days * DAY_US).astype(np.int64),
        }
        for outage in self._outages:
            if outage.source == source:
                columns["ingested"] = _held_back(columns["ingested"], outage)
        if source == "purchases":
            amounts = np.round(rng.lognormal(3.0, 0.6, count), 2)
            columns["amount"] = np.where(test, 1.0, amounts)
            for nulls in self._nulls:
                columns["amount"][_ingested_during(columns["ingested"], nulls)] = np.nan
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
        removed = self._removed
        if removed is not None and removed.source == source and self._day >= removed.day:
            keep &= ~self._refused[owners]
        self._rows[source].add(**{name: values[keep] for name, values in columns.items()})

    def take_rows(self) -> dict[str, dict[str, Array]]:
        """The rows generated since the last call, per source, as raw columns."""
        return {name: rows.take() for name, rows in self._rows.items()}


def _ingested_during(ingested: Array, shock: Shock) -> npt.NDArray[np.bool_]:
    """Which ingestion times (microseconds since the start) fall within the shock."""
    end = shock.end_day
    after = ingested >= shock.day * DAY_US
    return after if end is None else after & (ingested < end * DAY_US)


def _held_back(ingested: Array, outage: SourceOutage) -> Array:
    """Ingestion times with those due during the outage moved to the hour after it, in
    their order."""
    held = _ingested_during(ingested, outage)
    if not held.any():
        return ingested
    start, end = outage.day * DAY_US, (outage.end_day or outage.day) * DAY_US
    moved = ingested.copy()
    moved[held] = end + (ingested[held] - start) // ((end - start) // _BACKFILL_US)
    return moved
