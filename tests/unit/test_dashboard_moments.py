"""The dashboard writes UTC moments to the minute and windows as `start → end`."""

from __future__ import annotations

import pytest

from lucid.dashboard.moments import readable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2026-11-16T18:00:00.000000Z", "2026-11-16 18:00"),
        ("2026-11-16T18:00:00+00:00", "2026-11-16 18:00"),
        ("2026-11-16 18:05:59.999", "2026-11-16 18:05"),
        ("v1 at 2026-11-16T18:00Z.", "v1 at 2026-11-16 18:00."),
        (
            "2 checks over 2026-11-04T00:00:00.000000Z/2026-11-05T00:00:00.000000Z",
            "2 checks over 2026-11-04 00:00 → 2026-11-05 00:00",
        ),
        ("day 2026-11-16, 12:00:00 later", "day 2026-11-16, 12:00:00 later"),
        ("a day alone: 2026-11-16", "a day alone: 2026-11-16"),
    ],
)
def test_utc_moments_in_text_are_written_to_the_minute(text: str, shown: str) -> None:
    assert readable(text) == shown


@pytest.mark.parametrize("text", ["2026-11-16T18:00:00+02:00", "2026-11-16T18:00:00.5-05:00"])
def test_a_moment_with_another_offset_is_left_as_it_is(text: str) -> None:
    assert readable(text) == text
