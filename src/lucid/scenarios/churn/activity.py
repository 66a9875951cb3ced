"""What the churn world's customers, bots and QA do each day, as the rows the sources record.

Customers log in, buy, use the app and open support tickets at rates driven by their latent
engagement (a pandemic shift scales them); a few bot accounts hammer the product, bots also hit
real accounts, and QA replays test purchases — all flagged (`is_bot`, `is_test`) so a canonical
definition can exclude them. A share of rows is ingested days late; a removed signal stops
recording the rows of the customers who refused tracking. The true daily counts of logins,
purchases and tickets are kept for the churn hazard.
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
from lucid.scenarios.churn.shocks import PandemicShift, SignalRemoved

DAY_US = 86_400_000_000
"""Microseconds in a day: every time in the world is an integer count of them."""

SOURCES = ("purchases", "logins", "app_interactions", "support_tickets")
SCREENS = ("dashboard", "reports", "settings", "billing", "integrations", "export")
SEVERITIES = ("low", "normal", "high", "urgent")

_LATE_SHARE = 0.03  # rows ingested 1 to 5 days after the event
_BOT_TRAFFIC = 0.05  # bot logins on real accounts, share of real logins
_TEST_SHARE = 0.05  # test purchases on real accounts, share of real purchases
_BOT_RATES = {"purchases": 20.0, "logins": 120.0, "app_interactions": 200.0}  # per bot, daily

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
    ) -> None:
        self._rng = rng
        self._population = population
        self._bots = bots
        self.history = {
            name: np.zeros((window_days, len(population.ids)), dtype=np.int32)
            for name in ("logins", "purchases", "tickets")
        }
        """True daily counts per customer, one row per day of the window (day % window)."""
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
    ) -> None:
        """Day `day`'s logins, purchases, app interactions and tickets of the `present` first
        customers (kept in the history), plus bot traffic and test purchases, as rows; `alive`
        says who has not churned, `shift` the pandemic under way, `removed` the signal no
        longer recorded."""
        self._day, self._removed = day, removed
        rng, population, segment = self._rng, self._population, self._population.segment[:present]
        level = np.exp(engagement)
        factors = (
            (shift.login_factor, shift.purchase_factor, shift.interaction_factor)
            if shift is not None
            else (1.0, 1.0, 1.0)
        )
        logins = rng.poisson(LOGIN_RATE[segment] * level * factors[0])
        spending = np.exp(0.6 * engagement + population.budget[:present])
        purchases = rng.poisson(PURCHASE_RATE[segment] * spending * factors[1])
        interactions = rng.poisson(INTERACTION_RATE[segment] * level * factors[2])
        tickets = rng.poisson(TICKET_RATE[segment] / np.sqrt(level))
        slot = day % len(self.history["logins"])
        for name, counts in (("logins", logins), ("purchases", purchases), ("tickets", tickets)):
            self.history[name][slot, :] = 0
            self.history[name][slot, :present] = counts

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
        removed = self._removed
        if removed is not None and removed.source == source and self._day >= removed.day:
            refused = np.append(self._population.tracking_refused, np.ones(len(self._bots), bool))
            keep &= ~refused[owners]
        self._rows[source].add(**{name: values[keep] for name, values in columns.items()})

    def take_rows(self) -> dict[str, dict[str, Array]]:
        """The rows generated since the last call, per source, as raw columns."""
        return {name: rows.take() for name, rows in self._rows.items()}
