"""A file of outcomes logged as columns (`outcome_tables.log_outcome_table`) stores what the
row path stores for the same rows: the same matches by id and by entity, the same unmatched
positions, the same labels and times; anything the row path would refuse goes to it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lucid.errors import Conflict
from lucid.monitoring import predictions
from lucid.monitoring.outcome_tables import log_outcome_table
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.tables import outcome_segments
from tests.contract.test_prediction_seal import DAY, _count, _rows, _window

HORIZON = timedelta(days=90)
NOW = DAY + timedelta(days=3)


def _given(ids: list[str], prefix: str) -> list[dict[str, Any]]:
    """Outcomes by id (one unknown, one repeated with its label), by entity (one unknown,
    one observed before any prediction), times naive, zoned and as dates."""
    observed = DAY + timedelta(days=2, hours=3, microseconds=7)
    rows: list[dict[str, Any]] = [
        {"prediction_id": i, "label": n % 2, "observed_at": observed}
        for n, i in enumerate(ids[:12])
    ]
    rows += [
        {"prediction_id": "nobody", "label": 1, "observed_at": observed},
        {"prediction_id": ids[2], "label": 0, "observed_at": observed + timedelta(hours=1)},
        {"entity": f"{prefix}3", "label": 1, "observed_at": observed},
        {"entity": f"{prefix}5", "label": 0, "observed_at": DAY.replace(hour=0)},
        {"entity": "stranger", "label": 1, "observed_at": observed},
    ]
    return rows


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            "prediction_id": pa.array([r.get("prediction_id") for r in rows], pa.string()),
            "entity": pa.array([r.get("entity") for r in rows], pa.string()),
            "label": pa.array([bool(r["label"]) for r in rows], pa.bool_()),
            "observed_at": pa.array(
                [r["observed_at"].replace(tzinfo=None) for r in rows], pa.timestamp("us")
            ),
        }
    )


def _stored(log: SqlPredictionLog, ids: list[str]) -> list[int | None]:
    labels = log.outcomes_of(ids)
    return [labels.get(i) for i in ids]


def test_columns_store_what_rows_store(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=10)
    churn = predictions.log_predictions(log, "churn", 1, _rows(30, "a"))
    upsell = predictions.log_predictions(log, "upsell", 1, _rows(30, "b"))
    predictions.log_outcomes(log, "churn", _given(churn, "a")[:1], now=NOW)
    predictions.log_outcomes(log, "upsell", _given(upsell, "b")[:1], now=NOW)

    by_rows = predictions.log_outcomes(log, "churn", _given(churn, "a"), now=NOW)
    by_columns = log_outcome_table(
        log, "upsell", _table(_given(upsell, "b")), horizon=HORIZON, now=NOW
    )

    assert by_columns == by_rows
    assert (by_rows.logged, by_rows.already_logged, by_rows.unmatched) == (12, 1, (12, 15, 16))
    assert _stored(log, upsell) == _stored(log, churn)
    assert _window(log, "upsell") == _window(log, "churn")
    assert _count(db, outcome_segments) == 2  # both batches of 10 or more: a segment each
    # The times stored: canonical UTC text, the last row's of a repeated prediction.
    segments = log.outcomes.segments
    assert segments is not None
    import pyarrow.parquet as pq

    stored = pa.concat_tables(pq.read_table(f) for f in segments.files())
    ids, observed = stored.column("prediction_id"), stored.column("observed_at")
    times = dict(zip(ids.to_pylist(), observed.to_pylist(), strict=True))
    assert times[upsell[2]] == times[churn[2]] == "2026-11-04T04:00:00.000007Z"


@pytest.mark.parametrize(
    "change",
    [
        {"label": pa.array([2] * 12, pa.int64())},  # not a binary outcome
        {"observed_at": pa.array(["2026-11-04"] * 12)},  # text: the row path parses it
        {"prediction_id": pa.array([""] * 12)},  # empty id
        {"label": pa.array([0.5] * 12)},
    ],
)
def test_what_columns_cannot_judge_goes_to_the_rows(
    db: Database, tmp_path: Path, change: dict[str, pa.Array]
) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=10)
    ids = predictions.log_predictions(log, "churn", 1, _rows(12, "a"))
    table = _table(_given(ids, "a")[:12])
    for name, values in change.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    assert log_outcome_table(log, "churn", table, horizon=HORIZON, now=NOW) is None
    assert log.counts("churn") == (12, 0)


def test_a_contradiction_goes_to_the_rows_and_is_refused_there(
    db: Database, tmp_path: Path
) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=10)
    ids = predictions.log_predictions(log, "churn", 1, _rows(12, "a"))
    given = _given(ids, "a")[:12]
    torn = [*given, {**given[5], "label": 0}]  # rows 5 and 12: labels 1 and 0
    assert log_outcome_table(log, "churn", _table(torn), horizon=HORIZON, now=NOW) is None
    log_outcome_table(log, "churn", _table(given), horizon=HORIZON, now=NOW)
    flipped = [{**row, "label": 1 - row["label"]} for row in given]
    assert log_outcome_table(log, "churn", _table(flipped), horizon=HORIZON, now=NOW) is None
    with pytest.raises(Conflict, match=f"prediction {ids[0]} already has the outcome 0"):
        predictions.log_outcomes(log, "churn", flipped, now=NOW)
    assert log.counts("churn") == (12, 12)


def test_the_entity_join_reads_the_same_by_entity_list_or_all_rows(
    db: Database, tmp_path: Path
) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=1_000)
    predictions.log_predictions(log, "churn", 1, _rows(10, "a"))  # entities a0..a6, as rows
    day = "2026-11-0{}T{}:00:00.000000Z"
    wanted = [
        (f"a{i}", day.format(1, "00"), day.format(2 + i % 2, "0" + str(i % 10)))
        for i in range(12)  # more entities asked than rows: every row of the model read once
    ]
    one_by_one = [log.latest_before("churn", [w])[0] for w in wanted]  # looked up by entity
    assert log.latest_before("churn", wanted) == one_by_one
    assert sum(found is not None for found in one_by_one) == 7  # a7..a11 have none
