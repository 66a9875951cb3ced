"""The one retry loop of notifications: attempts with doubling backoff, each one recorded.

Attempt n + 1 waits `backoff × 2^(n - 1)` seconds after attempt n; the loop stops at the
first delivered attempt or after `attempts` of them. Attempts made before (by a process that
died, say) count: the loop resumes at the next number, and one that was delivered is not
repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lucid.notifications.channels import notifier_for
from lucid.ports.notifier import NotDelivered, Notification, Notifier
from lucid.settings import AlertChannel, AlertSettings

NO_CHANNEL = "event_log"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try: its number (from 1), whether it was delivered, what the receiver said or why
    it failed, and the HTTP status when one came back."""

    number: int
    delivered: bool
    detail: str
    status: int | None = None


def retry(
    send: Callable[[int], Attempt],
    *,
    attempts: int,
    backoff_seconds: float,
    sleep: Callable[[float], None],
    record: Callable[[Attempt], None],
    made: int = 0,
) -> Attempt | None:
    """Call `send(number)` for attempts `made + 1` … `attempts` until one is delivered,
    `record`ing each; the last attempt made (None when none was left to make)."""
    last: Attempt | None = None
    number = made
    while number < attempts:
        if number > 0:
            sleep(backoff_seconds * 2 ** (number - 1))
        number += 1
        last = send(number)
        record(last)
        if last.delivered:
            break
    return last


def attempt(notifier: Notifier, notification: Notification, number: int) -> Attempt:
    """Attempt `number` of sending `notification` through `notifier`."""
    try:
        return Attempt(number, True, notifier.send(notification))
    except NotDelivered as failure:
        return Attempt(number, False, str(failure))


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one channel took a message: delivered or not, after how many attempts."""

    channel: str
    delivered: bool
    attempts: int
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "detail": self.detail,
        }


def deliver_with_retries(
    channels: Sequence[AlertChannel],
    message: Notification,
    made: Mapping[str, tuple[int, bool]],
    settings: AlertSettings,
    sleep: Callable[[float], None],
    record: Callable[[str, int, bool, str], None],
    no_channel: str,
) -> tuple[Delivery, ...]:
    """Send `message` to each channel, up to `settings.attempts` tries with doubling backoff,
    calling `record(channel, attempt, delivered, detail)` for every try. `made` is what was
    recorded before (channel → attempts, delivered): those tries count and are not repeated.
    With no channel, one delivery to the event log is recorded, with `no_channel` as detail."""
    if not channels:
        if NO_CHANNEL not in made:
            record(NO_CHANNEL, 1, True, no_channel)
        return (Delivery(NO_CHANNEL, True, 1, no_channel),)
    return tuple(
        _deliver(channel, message, made.get(channel.name, (0, False)), settings, sleep, record)
        for channel in channels
    )


def _deliver(
    channel: AlertChannel,
    message: Notification,
    made: tuple[int, bool],
    settings: AlertSettings,
    sleep: Callable[[float], None],
    record: Callable[[str, int, bool, str], None],
) -> Delivery:
    count, delivered = made
    if delivered:
        return Delivery(channel.name, True, count, "delivered before")
    notifier = notifier_for(channel)
    last = retry(
        lambda number: attempt(notifier, message, number),
        attempts=settings.attempts,
        backoff_seconds=settings.backoff_seconds,
        sleep=sleep,
        record=lambda tried: record(channel.name, tried.number, tried.delivered, tried.detail),
        made=count,
    )
    if last is None:
        return Delivery(channel.name, False, count, "attempts used up before")
    return Delivery(channel.name, last.delivered, last.number, last.detail)
