"""The columnar prediction log on every metadata database: batches stored as registered
Parquet segments read back like rows, ids unique across both stores, outcomes joined to
segment predictions, and a refused batch leaving nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from lucid.errors import Conflict, InvalidInput
from lucid.monitoring import predictions
from lucid.monitoring.prediction_tables import log_prediction_table
from lucid.monitoring.windows import infer_part_kinds, parts_table
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.tables import prediction_log, prediction_segments

DAY = datetime(2026, 11, 2, tzinfo=UTC)
START, END = "2026-11-02T00:00:00.000000Z", "2026-11-04T00:00:00.000000Z"


def _rows(n: int, prefix: str, *, day: datetime = DAY) -> list[dict[str, Any]]:
    return [
        {
            "entity": f"{prefix}{i}",
            "served_at": day + timedelta(minutes=i),
            "features": {"tenure": i * 1.5, "plan": "pro" if i % 2 else "basic", "n": i},
            "score": (i % 10) / 10,
        }
        for i in range(n)
    ]


def _window(log: SqlPredictionLog, model: str, labels: bool = False) -> pa.Table:
    parts = log.window_parts(model, START, END, None, labels=labels)
    return parts_table(parts, infer_part_kinds(parts), with_label=labels)


def _segment_files(db: Database) -> int:
    with db.transaction() as connection:
        return int(
            connection.execute(select(func.count()).select_from(prediction_segments)).scalar_one()
        )


def test_a_segment_window_reads_as_the_same_rows_would(db: Database, tmp_path: Path) -> None:
    columns = SqlPredictionLog(db, tmp_path / "log", segment_rows=10)
    rows_only = SqlPredictionLog(db)
    # Two days: one segment a day; the rows' copy goes to the metadata database.
    batch = _rows(12, "a") + _rows(8, "b", day=DAY + timedelta(days=1))
    predictions.log_predictions(columns, "churn", 1, batch)
    predictions.log_predictions(rows_only, "upsell", 1, batch)

    assert _segment_files(db) == 2
    with db.transaction() as connection:
        stored = connection.execute(select(func.count()).select_from(prediction_log)).scalar()
    assert stored == 20  # only the rows' copy
    assert columns.counts("churn") == (20, 0)
    assert infer_part_kinds(columns.window_parts("churn", START, END, None, labels=False)) == {
        "tenure": "numeric",
        "plan": "categorical",
        "n": "numeric",
    }
    by_segments = _window(columns, "churn").sort_by("score").to_pydict()
    by_rows = _window(columns, "upsell").sort_by("score").to_pydict()
    assert sorted(map(str, zip(*by_segments.values(), strict=True))) == sorted(
        map(str, zip(*by_rows.values(), strict=True))
    )
    assert columns.latest_version("churn", START, END) == "1"
    assert columns.segments is not None and columns.segments.altered() == []


def test_ids_are_unique_across_segments_and_rows(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=5)
    batch = [row | {"id": f"p{i}"} for i, row in enumerate(_rows(6, "a"))]
    assert predictions.log_predictions(log, "churn", 1, batch)[:2] == ["p0", "p1"]

    again = [row | {"id": f"q{i}"} for i, row in enumerate(_rows(6, "b"))]
    again[3]["id"] = "p2"
    with pytest.raises(Conflict, match=r"'p2' is already logged; .* nothing was stored"):
        predictions.log_predictions(log, "churn", 1, again)
    with pytest.raises(Conflict, match=r"'p4' is already logged"):  # a small batch: rows
        predictions.log_predictions(log, "churn", 1, [again[0] | {"id": "p4"}])
    assert _segment_files(db) == 1
    assert log.existing_ids(["p1", "q0", "zz"]) == {"p1"}
    assert log.predictions_by_id("churn", ["p1", "zz"]) == {"p1": "2026-11-02T00:01:00.000000Z"}
    assert log.arms_of("churn", ["p1"]) == {"p1": ("a1", None)}
    assert log.predictions_by_id("other", ["p1"]) == {}


def test_outcomes_join_segment_predictions_by_id_and_by_entity(
    db: Database, tmp_path: Path
) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=5)
    ids = predictions.log_predictions(log, "churn", 1, _rows(6, "a"))
    observed = DAY + timedelta(days=1)
    report = predictions.log_outcomes(
        log,
        "churn",
        [
            {"prediction_id": ids[0], "label": 1, "observed_at": observed},
            {"entity": "a3", "label": 0, "observed_at": observed},
            {"entity": "nobody", "label": 1, "observed_at": observed},
        ],
        now=observed,
    )
    assert (report.logged, report.unmatched) == (2, (2,))
    assert log.outcomes_of(ids) == {ids[0]: 1, ids[3]: 0}
    window = _window(log, "churn", labels=True)
    assert sorted(label for label in window.column("label").to_pylist() if label is not None) == [
        0,
        1,
    ]


def test_a_bad_column_refuses_the_batch_and_stores_nothing(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=2)
    good = {
        "entity": ["a", "b", "c"],
        "served_at": ["2026-11-02T10:00:00+02:00", "2026-11-02T11:00:00Z", "2026-11-02"],
        "score": [0.1, 0.2, 0.3],
        "tenure": [1.0, float("nan"), 3.0],
    }
    cases = [
        ({"score": [0.1, 1.5, 0.3]}, r"rows\[1\]\.score: must be a probability"),
        ({"entity": ["a", " ", "c"]}, r"rows\[1\]\.entity: must be a non-empty id"),
        ({"served_at": ["2026-11-02", "soon", None]}, r"rows\[2\]\.served_at"),
        ({"served_at": ["2026-11-02", "soon", "2026-11-03"]}, r"rows\[1\]\.served_at"),
        ({"label": [1, 0, 1]}, r"rows\[0\]\.features\.label: is reserved"),
        ({"id": ["x", "y", "x"]}, r"rows\.id: 'x' is given twice"),
        ({"id": ["x", " ", "z"]}, r"rows\[1\]\.id: must be non-empty text of at most 64"),
        ({"id": ["x", None, "z" * 65]}, r"rows\[2\]\.id: must be non-empty text"),
        ({"id": [None, 7, 8]}, r"rows\[1\]\.id: must be non-empty text .*, not 7"),
        ({"arm": ["a", "b", "c" * 101]}, r"rows\[2\]\.arm: must be a short non-empty name"),
        ({"arm": ["a", "", None]}, r"rows\[1\]\.arm: must be a short non-empty name"),
        ({"arm": [1, 2, 3]}, r"rows\[0\]\.arm: must be a short non-empty name or absent, not 1"),
    ]
    for change, message in cases:
        with pytest.raises(InvalidInput, match=message):
            log_prediction_table(log, "churn", "1", [pa.table(good | change)])
    assert _segment_files(db) == 0
    assert not list((tmp_path / "log").rglob("*.parquet"))

    # A file read in chunks: a bad row of a later chunk is named by its row in the file, and
    # the chunks written before it are deleted.
    bad = good | {"score": [0.1, 0.2, -1.0]}
    with pytest.raises(InvalidInput, match=r"rows\[5\]\.score"):
        log_prediction_table(log, "churn", "1", [pa.table(good), pa.table(bad)])
    named = [pa.table(good | {"id": ["x", "y", "z"]}), pa.table(good | {"id": ["u", "z", "v"]})]
    with pytest.raises(Conflict, match=r"'z' is already logged"):
        log_prediction_table(log, "churn", "1", named)
    assert _segment_files(db) == 0
    assert not list((tmp_path / "log").rglob("*.parquet"))

    ids = log_prediction_table(log, "churn", "1", [pa.table(good)])
    assert len(set(ids)) == 3 and len(ids) == 3 and ids[-1] == ids[2]
    window = _window(log, "churn")
    assert sorted(window.column("tenure").to_pylist(), key=json.dumps) == [1.0, 3.0, None]
    assert log.latest_version("churn", START, END) == "1"
    assert log.predictions_by_id("churn", ids[:1]) == {ids[0]: "2026-11-02T08:00:00.000000Z"}

    # Some ids and arms absent: the absent ids are generated, the absent arms stay absent.
    mixed = pa.table(good | {"id": ["m1", None, "m3"], "arm": ["a", None, "b"]})
    mixed_ids = log_prediction_table(log, "churn", "1", [mixed])
    assert mixed_ids[0] == "m1" and mixed_ids[2] == "m3"
    assert mixed_ids[1] not in {"m1", "m3", None}
    assert log.arms_of("churn", mixed_ids) == {
        "m1": ("a", "a"),
        mixed_ids[1]: ("b", None),
        "m3": ("c", "b"),
    }


def test_an_unregistered_or_altered_segment_is_told_apart(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=2)
    predictions.log_predictions(log, "churn", 1, _rows(4, "a"))
    [segment] = list((tmp_path / "log").rglob("*.parquet"))
    orphan = segment.with_name("orphan.parquet")
    orphan.write_bytes(segment.read_bytes())  # a crash between rename and registration
    assert log.counts("churn") == (4, 0)
    assert _window(log, "churn").num_rows == 4

    assert log.segments is not None
    segment.write_bytes(segment.read_bytes()[:-1] + b"\0")
    assert log.segments.altered("churn") == [str(segment.relative_to(tmp_path / "log"))]
