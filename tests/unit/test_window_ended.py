"""A run's window must have ended: the default window (what the scheduler runs) always has,
a window still open or in the future is refused with one sentence; and the generic policy
alerts the owner under a name an alert target accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lucid.contracts.validity import Frequency
from lucid.contracts.validity.generic_policy import alert_target, generic_policy
from lucid.errors import InvalidInput
from lucid.monitoring.windows import require_ended, window_of

HEALTH_SHARES = {
    "null_share_rise",
    "out_of_range_share",
    "new_category_share",
    "vanished_category_share",
}
NOW = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("frequency", list(Frequency))
@pytest.mark.parametrize("minutes", [0, 1, 59, 60 * 24 * 7 - 1])
def test_the_default_window_has_always_ended(frequency: Frequency, minutes: int) -> None:
    now = NOW + timedelta(minutes=minutes)
    window = window_of(frequency, now)
    assert require_ended(window, now) == window


def test_a_window_ending_now_has_ended() -> None:
    window = window_of(Frequency.DAILY, NOW, NOW - timedelta(days=1), NOW)
    assert require_ended(window, NOW) == window


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 12, 6, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),  # still open
        (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC)),  # all ahead
    ],
)
def test_a_window_not_ended_is_refused_naming_it_and_its_end(
    start: datetime, end: datetime
) -> None:
    window = window_of(Frequency.DAILY, NOW, start, end)
    with pytest.raises(InvalidInput) as refused:
        require_ended(window, NOW)
    assert refused.value.field == "window_end"
    assert refused.value.rule == (
        f"window {window.start}..{window.end} ends at {window.end}, which is in the future "
        "(now 2026-12-06T12:30:00.000000Z); run it once it has ended"
    )


@pytest.mark.parametrize(
    ("owner", "target"),
    [("ana", "ana"), ("Dana Smith", "dana_smith"), ("ml-team@shop.example", "ml-team@shop.example"),
     ("42", "owner_42")],
)  # fmt: skip
def test_the_generic_policy_alerts_and_reports_to_the_owner(owner: str, target: str) -> None:
    assert alert_target(owner) == target
    policy = generic_policy("churn", owner)
    assert policy.reporting.stakeholders == (owner,)
    assert policy.approving_teams == (target,)
    assert {t.metric for t in policy.thresholds} == {"psi", *HEALTH_SHARES}
