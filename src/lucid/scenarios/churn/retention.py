"""What a stretch of the churn world's simulated days measured: who was kept, who churned, who
was treated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
