"""Which way a metric is better."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    """Which way a business metric must move: `higher` (retention) or `lower` (churn, cost)."""

    HIGHER = "higher"
    LOWER = "lower"

    def better(self, value: float, than: float) -> bool:
        """True when `value` is strictly better than `than` in this direction."""
        return value > than if self is Direction.HIGHER else value < than

    def at_least_as_good(self, value: float, as_: float) -> bool:
        """True when `value` is as good as `as_` or better."""
        return value >= as_ if self is Direction.HIGHER else value <= as_

    def gain(self, before: float, after: float) -> float:
        """The improvement from `before` to `after`, positive when it got better."""
        return after - before if self is Direction.HIGHER else before - after
