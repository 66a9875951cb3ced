"""Who the churn world's customers are: segment, plan and price, their own engagement level and
propensity to buy, when they sign up, and the everyday rates of what they do.

Every customer the world will ever have is drawn at its start (the initial base, the steady
signups, a new segment's arrivals from its shock's day), so the draws never depend on who
churned or was treated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lucid.scenarios.churn.churn_hazard import PLANS, SEGMENTS
from lucid.scenarios.churn.shocks import NewSegmentArrival, PriceChange, SignalRemoved

# Per segment (smb, mid, enterprise, freelancer): initial share, price multiplier, mean
# engagement (log scale), and daily event rates at engagement 0.
SEGMENT_SHARE = np.array([0.6, 0.3, 0.1])
SEGMENT_PRICE = np.array([1.0, 2.5, 8.0, 0.5])
SEGMENT_ENGAGEMENT = np.array([0.0, 0.2, 0.4, 0.3])
LOGIN_RATE = np.array([0.5, 0.6, 0.7, 1.1])
PURCHASE_RATE = np.array([0.06, 0.07, 0.08, 0.015])
INTERACTION_RATE = np.array([0.6, 0.7, 0.8, 1.0])
TICKET_RATE = np.array([0.01, 0.012, 0.02, 0.015])
# Plan choice per segment (basic, pro, team) and monthly list price per plan.
PLAN_SHARE = np.array([[0.6, 0.35, 0.05], [0.3, 0.5, 0.2], [0.1, 0.4, 0.5], [0.8, 0.2, 0.0]])
PLAN_PRICE = np.array([29.0, 79.0, 199.0])
BASE_SIGNUPS = 0.0007  # new customers per day, share of the initial count


@dataclass
class Population:
    """Every customer the world will ever have, sorted by signup (days since start)."""

    ids: list[str]
    signup: npt.NDArray[np.float64]
    segment: npt.NDArray[np.int8]
    plan: npt.NDArray[np.int8]
    price: npt.NDArray[np.float64]
    level: npt.NDArray[np.float64]  # own engagement level, log scale
    budget: npt.NDArray[np.float64]  # own propensity to buy add-ons, log scale
    tracking_refused: npt.NDArray[np.bool_]  # under a SignalRemoved shock's share
    move: npt.NDArray[np.float64]  # uniform draw: moves down under a PriceChange's share


def draw_population(
    rng: np.random.Generator,
    customers: int,
    days: int,
    *,
    history_days: int,
    arrival: NewSegmentArrival | None,
    removed: SignalRemoved | None,
    repriced: PriceChange | None = None,
) -> Population:
    """Draw the initial `customers` (signed up within 3 years before day 0, at least
    `history_days` before it) and every later signup over `days`, with the new segment's
    arrivals from its shock's day and, from a price change's day, signups choosing the plan
    below the repriced one at its `signup_move` rate (at its new price)."""
    initial = customers
    segment0 = rng.choice(3, size=initial, p=SEGMENT_SHARE)
    signup0 = -rng.uniform(history_days, 3 * 365, initial)
    signups = rng.poisson(BASE_SIGNUPS * initial, days)
    newcomers = rng.poisson((arrival.daily_signups if arrival else 0.0) * initial, days) * (
        np.arange(days) >= (arrival.day if arrival else days)
    )
    base_days = np.repeat(np.arange(days), signups)
    new_days = np.repeat(np.arange(days), newcomers)
    segment = np.concatenate(
        [
            segment0,
            rng.choice(3, size=len(base_days), p=SEGMENT_SHARE),
            np.full(len(new_days), SEGMENTS.index("freelancer")),
        ]
    ).astype(np.int8)
    signup = np.concatenate(
        [signup0, base_days + rng.random(len(base_days)), new_days + rng.random(len(new_days))]
    )
    order = np.argsort(signup, kind="stable")
    signup, segment = signup[order], segment[order]
    size = len(signup)
    cumulative = np.cumsum(PLAN_SHARE, axis=1)[segment]
    plan = (rng.random(size)[:, None] > cumulative[:, :-1]).sum(axis=1).astype(np.int8)
    level = SEGMENT_ENGAGEMENT[segment] + 0.6 * rng.standard_normal(size)
    budget = 0.5 * rng.standard_normal(size)
    tracking_refused = rng.random(size) < (removed.share if removed else 0.0)
    move = rng.random(size)
    price = PLAN_PRICE[plan] * SEGMENT_PRICE[segment]
    if repriced is not None:
        later = signup >= repriced.day
        on_plan = later & (plan == PLANS.index(repriced.plan))
        price[on_plan] *= repriced.price_factor
        moving = on_plan & (move < repriced.signup_move)
        plan[moving] = PLANS.index(repriced.to_plan)
        price[moving] = PLAN_PRICE[plan[moving]] * SEGMENT_PRICE[segment[moving]]
    return Population(
        ids=[f"c{number:06d}" for number in range(size)],
        signup=signup,
        segment=segment,
        plan=plan,
        price=price,
        level=level,
        budget=budget,
        tracking_refused=tracking_refused,
        move=move,
    )
