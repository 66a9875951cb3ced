"""One time rule on every engine (DuckDB, Spark): label times given as text with an offset,
`Z`, naive text, Python naive and aware datetimes, pandas and Arrow timestamps with zones, in
SDK rows, CSV and Parquet label files, and source columns of aware timestamps or offset text,
all mean the instant they say, in UTC (docs/features.md, "Time").

alice has three events: at 10:00Z (ingested late, at 12:30Z), 11:00Z and 13:00Z. A label at
17:30+05:30 is 12:00Z: it sees the 11:00Z event only — reading it as 17:30 UTC would leak
the 13:00Z event from its future.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    Duration,
    FeatureDefinition,
    Source,
    SourceKind,
    Term,
    ValueType,
    Version,
    WindowedAggregation,
    schema_mismatches,
)
from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from lucid.errors import InvalidInput

NOON = datetime(2025, 6, 15, 12, 0)  # 12:00Z as the naive UTC time a training set shows
INDIA = timezone(timedelta(hours=5, minutes=30))
EVENTS = [  # event time, ingestion time, value (UTC)
    (datetime(2025, 6, 15, 10, 0, tzinfo=UTC), datetime(2025, 6, 15, 12, 30, tzinfo=UTC), 3.0),
    (datetime(2025, 6, 15, 11, 0, tzinfo=UTC), datetime(2025, 6, 15, 11, 30, tzinfo=UTC), 1.0),
    (datetime(2025, 6, 15, 13, 0, tzinfo=UTC), datetime(2025, 6, 15, 13, 0, tzinfo=UTC), 2.0),
]
SCHEMA = {"k": ColumnType.STRING, "t": ColumnType.TIMESTAMP, "loaded": ColumnType.TIMESTAMP}
INSTANT_12Z = [
    "2025-06-15T17:30:00+05:30",
    "2025-06-15T12:00:00Z",
    "2025-06-15T04:00:00-08:00",
    "2025-06-15T12:00:00",  # naive text means UTC
]
Engine = Callable[[Path], Any]


@pytest.fixture(params=["duckdb", "spark"])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "duckdb":
        return DuckDBEngine
    session = request.getfixturevalue("spark")
    return lambda project: SparkEngine(project, session)


def source(kind: SourceKind, location: str) -> Source:
    return Source("events", kind, location, "customer", "k", "t", SCHEMA, ingestion_time="loaded")


def features() -> list[FeatureDefinition]:
    common: dict[str, Any] = {
        "version": Version(1, 0, 0),
        "description": "d",
        "owner": "o",
        "entity": "customer",
        "window": Duration(86_400),
    }
    return [
        FeatureDefinition(
            name="events_1d",
            concept="events",
            value_type=ValueType.INTEGER,
            computation=WindowedAggregation((Term("events", Aggregate.COUNT),)),
            **common,
        ),
        FeatureDefinition(
            name="last_value",
            concept="last_value",
            value_type=ValueType.FLOAT,
            computation=WindowedAggregation((Term("events", Aggregate.LAST, column="v"),)),
            **common,
        ),
    ]


def naive_events(project: Path) -> dict[str, Source]:
    """The events as a Parquet folder of naive UTC times."""
    (project / "events").mkdir()
    table = pa.table(
        {
            "k": ["alice"] * len(EVENTS),
            "t": pa.array([t.replace(tzinfo=None) for t, _, _ in EVENTS], pa.timestamp("us")),
            "loaded": pa.array([i.replace(tzinfo=None) for _, i, _ in EVENTS], pa.timestamp("us")),
            "v": [v for _, _, v in EVENTS],
        }
    )
    pq.write_table(table, project / "events" / "e.parquet")
    return {"events": source(SourceKind.PARQUET, "events")}


def with_v(found: Source) -> dict[str, Source]:
    schema = {**found.schema, "v": ColumnType.DOUBLE}
    return {
        "events": Source(
            found.name, found.kind, found.location, "customer", "k", "t", schema, "loaded"
        )
    }


def training_rows(
    make: Engine, project: Path, labels: Any, sources: dict[str, Source]
) -> list[tuple[Any, ...]]:
    engine = make(project)
    rows = engine.training_set(
        labels, features(), with_v(sources["events"]), entity_column="k", time_column="at"
    ).fetchall()
    return [tuple(row) for row in rows]


def assert_each_label_at_noon(rows: Sequence[tuple[Any, ...]], count: int) -> None:
    """Every row is alice at 12:00Z, seeing only the 11:00Z event (value 1.0)."""
    assert len(rows) == count
    for row in rows:
        assert row == ("alice", NOON, 1, 1.0), row


def test_sdk_rows_in_every_form_of_the_same_instant(engine: Engine, tmp_path: Path) -> None:
    forms: list[object] = [
        *INSTANT_12Z,
        datetime(2025, 6, 15, 12, 0),  # a naive datetime means UTC
        datetime(2025, 6, 15, 17, 30, tzinfo=INDIA),
        pd.Timestamp("2025-06-15T08:00:00", tz="America/New_York"),
    ]
    labels = [{"k": "alice", "at": form} for form in forms]
    rows = training_rows(engine, tmp_path, labels, naive_events(tmp_path))
    assert_each_label_at_noon(rows, len(forms))


def test_a_date_means_its_midnight_utc(engine: Engine, tmp_path: Path) -> None:
    labels = [{"k": "alice", "at": "2025-06-15"}, {"k": "alice", "at": "2025-06-16"}]
    rows = training_rows(engine, tmp_path, labels, naive_events(tmp_path))
    # Midnight sees no event yet; the next midnight sees all three (the late one is known).
    assert rows == [
        ("alice", datetime(2025, 6, 15), 0, None),
        ("alice", datetime(2025, 6, 16), 3, 2.0),
    ]


def test_a_csv_label_file_with_offsets(engine: Engine, tmp_path: Path) -> None:
    """Offsets after a long run of naive times: DuckDB's CSV sniffer, which guesses a column's
    type from the first 20,480 rows, would read the column as naive and drop the offsets."""
    sources = naive_events(tmp_path)
    early = ["bob,2025-06-15T12:00:00"] * 21_000
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(["k,at", *early, *(f"alice,{text}" for text in INSTANT_12Z)]))
    rows = training_rows(engine, tmp_path, path, sources)
    assert_each_label_at_noon(rows[len(early) :], len(INSTANT_12Z))


@pytest.mark.parametrize(
    "column",
    [
        pa.array(INSTANT_12Z, pa.string()),
        pa.array([datetime(2025, 6, 15, 17, 30, tzinfo=INDIA)] * 2, pa.timestamp("us", "+05:30")),
        # Arrow holds the instant; the zone says how to show it (05:00 in Phoenix).
        pa.array([datetime(2025, 6, 15, 12, tzinfo=UTC)], pa.timestamp("ms", "America/Phoenix")),
    ],
    ids=["text", "aware-us", "arrow-zone-ms"],
)
def test_a_parquet_label_file(engine: Engine, tmp_path: Path, column: pa.Array) -> None:
    sources = naive_events(tmp_path)
    pq.write_table(pa.table({"k": ["alice"] * len(column), "at": column}), tmp_path / "l.parquet")
    rows = training_rows(engine, tmp_path, tmp_path / "l.parquet", sources)
    assert_each_label_at_noon(rows, len(column))


def test_pandas_aware_timestamps_written_to_parquet(engine: Engine, tmp_path: Path) -> None:
    sources = naive_events(tmp_path)
    frame = pd.DataFrame(
        {"k": ["alice"], "at": pd.to_datetime(["2025-06-15T17:30:00+05:30"]).as_unit("us")}
    )
    frame.to_parquet(tmp_path / "l.parquet")
    rows = training_rows(engine, tmp_path, tmp_path / "l.parquet", sources)
    assert_each_label_at_noon(rows, 1)


@pytest.mark.parametrize(
    "table",
    [
        pd.DataFrame({"k": ["alice"] * 4, "at": INSTANT_12Z}),
        pd.DataFrame({"k": ["alice"] * 2, "at": pd.to_datetime(["2025-06-15T17:30:00+05:30"] * 2)}),
        pd.DataFrame(
            {"k": ["alice"], "at": [pd.Timestamp("2025-06-15T08:00", tz="America/New_York")]}
        ),
        pd.DataFrame({"k": ["alice"], "at": [datetime(2025, 6, 15, 12, 0)]}),  # naive: UTC
        pa.table(
            {
                "k": ["alice"],
                "at": pa.array(
                    [datetime(2025, 6, 15, 12, tzinfo=UTC)], pa.timestamp("ms", "Asia/Tokyo")
                ),
            }
        ),
    ],
    ids=["pandas-text", "pandas-aware-ns", "pandas-timestamp-objects", "pandas-naive", "arrow"],
)
def test_a_label_table_in_memory(engine: Engine, tmp_path: Path, table: Any) -> None:
    """A pandas DataFrame or an Arrow table of labels, as Feast's entity DataFrame: its times
    follow the same rule."""
    rows = training_rows(engine, tmp_path, table, naive_events(tmp_path))
    assert_each_label_at_noon(rows, len(table))


@pytest.mark.parametrize(
    ("table", "sentence"),
    [
        (pd.DataFrame({"k": [], "at": []}), "labels: must hold at least one row"),
        (
            pd.DataFrame({"k": ["alice", "alice"], "at": ["2025-06-15T12:00:00Z", "soon"]}),
            "labels.at: 'soon' (text) is not a time",
        ),
    ],
    ids=["empty", "not-a-time"],
)
def test_a_bad_label_table_is_one_sentence(
    engine: Engine, tmp_path: Path, table: Any, sentence: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(sentence)):
        training_rows(engine, tmp_path, table, naive_events(tmp_path))


SENTENCE = "; write ISO 8601, e.g. 2025-06-15T17:30:00+02:00"


@pytest.mark.parametrize(
    ("labels", "sentence"),
    [
        ([{"k": "alice", "at": NOON}, {"k": "alice", "at": "yesterday"}], "'yesterday' (text)"),
        ([{"k": "alice", "at": None}], "NULL (no value)"),
        ([{"k": "alice", "at": 1718454600}], "1718454600 (integer)"),
    ],
    ids=["text", "null", "number"],
)
def test_sdk_rows_with_a_value_that_is_not_a_time_are_refused(
    engine: Engine, tmp_path: Path, labels: list[dict[str, Any]], sentence: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        training_rows(engine, tmp_path, labels, naive_events(tmp_path))
    assert str(refused.value) == f"labels.at: {sentence} is not a time{SENTENCE}"


@pytest.mark.parametrize(
    ("name", "write", "sentence"),
    [
        (
            "l.csv",
            lambda path: path.write_text("k,at\nalice,2025-06-15T12:00:00Z\nalice,yesterday\n"),
            "'yesterday' (text)",
        ),
        (
            "l.parquet",
            lambda path: pq.write_table(pa.table({"k": ["alice"], "at": [1718454600]}), path),
            "1718454600 (integer)",
        ),
        (
            "l.parquet",
            lambda path: pq.write_table(
                pa.table({"k": ["a", "b"], "at": pa.array([None, "2025-06-15"], pa.string())}),
                path,
            ),
            "NULL (no value)",
        ),
    ],
    ids=["csv-text", "parquet-number", "parquet-null"],
)
def test_label_files_with_a_value_that_is_not_a_time_are_refused(
    engine: Engine, tmp_path: Path, name: str, write: Callable[[Path], None], sentence: str
) -> None:
    sources = naive_events(tmp_path)
    write(tmp_path / name)
    with pytest.raises(InvalidInput) as refused:
        training_rows(engine, tmp_path, tmp_path / name, sources)
    assert str(refused.value) == f"labels.at: {sentence} is not a time{SENTENCE}"


def aware_parquet_events(project: Path, unit: str = "us") -> Source:
    """The events as pandas writes timestamps with a zone (+05:30)."""
    (project / "aware").mkdir()
    frame = pd.DataFrame(
        {
            "k": ["alice"] * len(EVENTS),
            "t": pd.DatetimeIndex([t for t, _, _ in EVENTS]).tz_convert(INDIA).as_unit(unit),
            "loaded": pd.DatetimeIndex([i for _, i, _ in EVENTS]).tz_convert(INDIA).as_unit(unit),
            "v": [v for _, _, v in EVENTS],
        }
    )
    frame.to_parquet(project / "aware" / "e.parquet")
    return source(SourceKind.PARQUET, "aware")


def offset_csv_events(project: Path) -> Source:
    """The events as CSV text with offsets (+05:30 for the event, -08:00 for the ingestion)."""
    lines = ["k,t,loaded,v"]
    for moment, loaded, value in EVENTS:
        lines.append(
            f"alice,{moment.astimezone(INDIA).isoformat()},"
            f"{loaded.astimezone(timezone(timedelta(hours=-8))).isoformat()},{value}"
        )
    (project / "events.csv").write_text("\n".join(lines) + "\n")
    return Source(
        "events",
        SourceKind.CSV,
        "events.csv",
        "customer",
        "k",
        "t",
        {**SCHEMA, "v": ColumnType.DOUBLE},
        ingestion_time="loaded",
    )


@pytest.mark.parametrize("kind", ["parquet-aware", "csv-offsets"])
def test_source_columns_of_aware_times_are_accepted_and_compared_in_utc(
    engine: Engine, tmp_path: Path, kind: str
) -> None:
    events = (
        aware_parquet_events(tmp_path) if kind == "parquet-aware" else offset_csv_events(tmp_path)
    )
    found = engine(tmp_path).describe(with_v(events)["events"])
    assert found["t"] is ColumnType.TIMESTAMP and found["loaded"] is ColumnType.TIMESTAMP
    labels = [{"k": "alice", "at": NOON}, {"k": "alice", "at": "2025-06-15T13:00:00Z"}]
    rows = training_rows(engine, tmp_path, labels, {"events": events})
    # At 12:00Z the 10:00Z event is not yet known (ingested 12:30Z) and 13:00Z is ahead; at
    # 13:00Z all three count, the event exactly at 13:00Z included.
    assert rows == [("alice", NOON, 1, 1.0), ("alice", datetime(2025, 6, 15, 13), 3, 2.0)]


def test_pandas_aware_nanosecond_columns_are_timestamps_on_duckdb(tmp_path: Path) -> None:
    """pandas' default unit before 3.0; Spark cannot read nanosecond Parquet times at all."""
    events = aware_parquet_events(tmp_path, unit="ns")
    with DuckDBEngine(tmp_path) as engine:
        assert schema_mismatches(SCHEMA, engine.describe(events)) == []
        rows = training_rows(
            lambda _: engine, tmp_path, [{"k": "alice", "at": NOON}], {"events": events}
        )
    assert rows == [("alice", NOON, 1, 1.0)]


def test_an_unsupported_column_type_is_named(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "odd").mkdir()
    table = pa.table({"k": ["alice"], "t": pa.array([[1, 2]], pa.list_(pa.int32()))})
    pq.write_table(table, tmp_path / "odd" / "o.parquet")
    odd = Source("odd", SourceKind.PARQUET, "odd", "customer", "k", "t", SCHEMA)
    problems = schema_mismatches({"t": ColumnType.TIMESTAMP}, engine(tmp_path).describe(odd))
    assert len(problems) == 1
    assert problems[0].startswith("column 't' is declared timestamp but the data has the ")
    assert problems[0].split("unsupported type ")[1] in ("INTEGER[]", "array<int>")


def test_golden_example_event_times_with_offsets(engine: Engine, tmp_path: Path) -> None:
    """An example's event at 16:30+05:30 (ingested 03:00-08:00) is 11:00Z, before the
    example's 12:00Z: it counts, on DuckDB's golden-example path and Spark's alike."""
    from lucid.contracts.semantic import GoldenExample
    from lucid.engines.golden_examples import run_example_offline
    from lucid.features.examples import example_time

    [count, _] = features()
    events = {"events": source(SourceKind.PARQUET, "events")}
    example = GoldenExample(
        entity="alice",
        at="2025-06-15T12:00:00Z",
        events={
            "events": (
                {
                    "k": "alice",
                    "t": "2025-06-15T16:30:00+05:30",
                    "loaded": "2025-06-15T03:00:00-08:00",
                },
            )
        },
        expected=1,
    )
    made = engine(tmp_path)
    if isinstance(made, DuckDBEngine):
        assert run_example_offline(count, events, example) == 1
        return
    made.load_rows(events["events"], example.events["events"])
    at = example_time(example.at, "at")
    found = made.compute(count, events, [("alice", at)], as_known_at=True)
    assert found == {("alice", NOON): 1}
