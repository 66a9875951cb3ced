"""The one time rule (`lucid.contracts.times`): every form of an instant gives that instant in
UTC, and a value that is not a time is refused naming the field, the value and its type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lucid.contracts.events import parse_time
from lucid.contracts.times import to_naive_utc, to_utc, utc_text
from lucid.errors import InvalidInput

NOON_UTC = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
INDIA = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-15T17:30:00+05:30",
        "2025-06-15T12:00:00Z",
        "2025-06-15T04:00:00-08:00",
        " 2025-06-15T12:00:00 ",
        "2025-06-15T12:00:00",  # naive text means UTC
        "2025-06-15 12:00:00.000000",
        datetime(2025, 6, 15, 17, 30, tzinfo=INDIA),
        datetime(2025, 6, 15, 12, 0),  # a naive datetime means UTC
        pd.Timestamp("2025-06-15T17:30:00+05:30"),
        pd.Timestamp("2025-06-15T08:00:00", tz="America/New_York"),
        pa.scalar(NOON_UTC, pa.timestamp("us", tz="Asia/Kolkata")).as_py(),
        np.datetime64("2025-06-15T12:00:00"),
    ],
    ids=repr,
)
def test_every_form_of_an_instant_is_that_instant_in_utc(value: object) -> None:
    assert to_utc(value, "t") == NOON_UTC
    assert to_utc(value, "t").tzinfo is UTC
    assert to_naive_utc(value, "t") == datetime(2025, 6, 15, 12, 0)


def test_a_date_means_its_midnight_utc() -> None:
    assert to_utc(date(2025, 6, 15), "t") == datetime(2025, 6, 15, tzinfo=UTC)
    assert to_utc("2025-06-15", "t") == datetime(2025, 6, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("yesterday", "labels.at: 'yesterday' (text) is not a time"),
        ("2025-13-01T00:00:00", "labels.at: '2025-13-01T00:00:00' (text) is not a time"),
        (1718454600, "labels.at: 1718454600 (integer) is not a time"),
        (1.5, "labels.at: 1.5 (double) is not a time"),
        (True, "labels.at: true (boolean) is not a time"),
        (None, "labels.at: NULL (no value) is not a time"),
        (pd.NaT, "labels.at: NULL (no value) is not a time"),
        (time(12), "labels.at: 12:00:00 (time of day) is not a time"),
    ],
    ids=repr,
)
def test_a_value_that_is_not_a_time_is_refused_with_one_sentence(
    value: object, sentence: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        to_utc(value, "labels.at")
    assert str(refused.value) == f"{sentence}; write ISO 8601, e.g. 2025-06-15T17:30:00+02:00"


def test_a_pandas_timestamp_becomes_a_plain_datetime() -> None:
    """Engines' drivers (Spark's schema inference) take a plain `datetime`, not a subclass."""
    assert type(to_naive_utc(pd.Timestamp("2025-06-15T17:30:00+05:30"), "t")) is datetime


@pytest.mark.parametrize("year", [1, 999, 1000, 2025, 9999])
def test_the_stored_text_of_any_year_is_fixed_width_sortable_and_read_back(year: int) -> None:
    moment = datetime(year, 6, 15, 12, 0, 0, 7, tzinfo=UTC)
    text = utc_text(moment, "t")
    assert len(text) == 27 and text.startswith(f"{year:04d}-06-15T12:00:00.000007")
    assert parse_time(text) == moment
    assert (text < utc_text("2025-01-01", "t")) == (year < 2025)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T01:00:00+05:00",
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(-timedelta(hours=2))),
    ],
)
def test_a_time_outside_the_years_1_to_9999_once_in_utc_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        utc_text(value, "served_at")
    assert refused.value.field == "served_at" and "year 1 or after 9999" in str(refused.value)
