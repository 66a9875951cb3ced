"""The columnar outcome log on every metadata database: a large outcome batch and the outcome
rows of ended days become registered outcome segments, read exactly as the rows were; a
prediction keeps one outcome whichever store holds the first; a seal refused at any step
leaves the rows read once; `lucid events verify` rehashes outcome segments."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lucid.errors import Conflict
from lucid.monitoring import predictions
from lucid.monitoring.prediction_seal import seal_predictions
from lucid.storage.database import Database
from lucid.storage.outcome_segments import outcome_table
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.tables import outcome_log, outcome_segments, shadow_comparisons, shadow_scores
from tests.contract.test_prediction_seal import DAY, LATER, _count, _refusing, _rows, _window

OBSERVED = DAY + timedelta(days=2)


def _outcomes(ids: list[str]) -> list[dict[str, Any]]:
    return [
        {"prediction_id": i, "label": n % 2, "observed_at": OBSERVED} for n, i in enumerate(ids)
    ]


def _scored(db: Database, ids: list[str]) -> None:
    """A concluded shadow comparison of churn that scored the predictions `ids`."""
    comparison = {
        "id": "s1",
        "model": "churn",
        "control_version": 1,
        "challenger_version": 2,
        "design": "{}",
        "status": "concluded",
        "created_at": "2026-11-01T00:00:00.000000Z",
        "created_by": "test",
    }
    with db.transaction() as connection:
        connection.execute(shadow_comparisons.insert(), [comparison])
        connection.execute(
            shadow_scores.insert(),
            [{"comparison_id": "s1", "prediction_id": i, "score": 0.5} for i in ids],
        )


def test_a_large_outcome_batch_is_a_segment_read_as_rows_are(db: Database, tmp_path: Path) -> None:
    rows_log = SqlPredictionLog(db, tmp_path / "log", segment_rows=1_000)
    batch_log = SqlPredictionLog(db, tmp_path / "log", segment_rows=10)
    churn = predictions.log_predictions(rows_log, "churn", 1, _rows(40, "a"))
    upsell = predictions.log_predictions(rows_log, "upsell", 1, _rows(40, "b"))

    predictions.log_outcomes(rows_log, "churn", _outcomes(churn[:30]), now=OBSERVED)
    report = predictions.log_outcomes(batch_log, "upsell", _outcomes(upsell[:30]), now=OBSERVED)

    assert report.logged == 30
    assert _count(db, outcome_log) == 30 and _count(db, outcome_segments) == 1
    # Prediction rows whose outcomes are in a segment: labels joined inside DuckDB.
    assert _window(rows_log, "upsell") == _window(rows_log, "churn")
    assert rows_log.counts("upsell") == rows_log.counts("churn") == (40, 30)
    assert rows_log.outcomes_of(upsell[:3]) == {upsell[0]: 0, upsell[1]: 1, upsell[2]: 0}

    # One outcome per prediction, the first one in a segment: the same refusal as for a row.
    again = predictions.log_outcomes(rows_log, "upsell", _outcomes(upsell[:1]), now=LATER)
    assert (again.logged, again.already_logged) == (0, 1)
    flipped = [{"prediction_id": upsell[1], "label": 0, "observed_at": OBSERVED}]
    for log in (rows_log, batch_log):
        with pytest.raises(Conflict, match=f"prediction {upsell[1]} already has the outcome 1"):
            predictions.log_outcomes(log, "upsell", flipped, now=LATER)
    assert _count(db, outcome_log) == 30 and _count(db, outcome_segments) == 1

    # Predictions sealed too: segments joined to outcome segments, still the same window.
    assert seal_predictions(batch_log, now=LATER).rows == 80
    assert _window(rows_log, "upsell") == _window(rows_log, "churn")


def test_the_seal_moves_outcome_rows_of_ended_days(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=1_000)
    ids = predictions.log_predictions(log, "churn", 1, _rows(40, "a"))
    predictions.log_outcomes(log, "churn", _outcomes(ids[:20]), now=OBSERVED)
    predictions.log_outcomes(log, "churn", _outcomes(ids[20:25]), now=LATER)  # today's
    before = _window(log, "churn")

    report = seal_predictions(log, now=LATER)

    assert (report.outcomes, report.outcome_segments) == (20, 1)
    assert report.outcome_days == [
        {"model": "churn", "day": OBSERVED.date().isoformat(), "rows": 20, "segments": 1}
    ]
    assert _count(db, outcome_log) == 5 and _count(db, outcome_segments) == 1
    assert _window(log, "churn") == before
    assert log.counts("churn") == (40, 25)
    assert seal_predictions(log, now=LATER).outcomes == 0
    flipped = [{"prediction_id": ids[3], "label": 0, "observed_at": OBSERVED}]
    with pytest.raises(Conflict, match=f"prediction {ids[3]} already has the outcome 1"):
        predictions.log_outcomes(log, "churn", flipped, now=LATER)
    # `lucid events verify` rehashes outcome segments as it does prediction segments.
    segments = log.outcomes.segments
    assert segments is not None and segments.altered() == []
    [sealed] = (tmp_path / "log" / "outcomes").rglob("*.parquet")
    sealed.write_bytes(sealed.read_bytes()[:-1] + b"\0")
    assert segments.altered() == [str(sealed.relative_to(tmp_path / "log"))]


def test_an_outcome_seal_cut_short_leaves_the_rows_read_once(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=1_000)
    ids = predictions.log_predictions(log, "churn", 1, _rows(20, "a"))
    predictions.log_outcomes(log, "churn", _outcomes(ids), now=OBSERVED)
    before = _window(log, "churn")
    day, bound = OBSERVED.date().isoformat(), "2026-11-05T00:00:00.000000Z"
    rows = log.sealable_outcomes("churn", day, bound, 100)
    segments = log.outcomes.segments
    assert len(rows) == 20 and segments is not None

    # A crash between the file's rename and its registration: an orphan file, never read.
    segments.stage("churn", outcome_table(rows), "2026-11-05T00:00:00.000000Z")
    assert _window(log, "churn") == before
    assert log.outcomes_of(ids) == {i: n % 2 for n, i in enumerate(ids)}

    # The registration refused, then the rows' deletion refused: neither is committed.
    for table in ("outcome_segments", "outcome_log"):
        with _refusing(db, table), pytest.raises(Exception, match="refused"):
            seal_predictions(log, now=LATER)
        assert _count(db, outcome_segments) == 0 and _count(db, outcome_log) == 20
        assert _window(log, "churn") == before
    assert len(list((tmp_path / "log" / "outcomes").rglob("*.parquet"))) == 1  # the orphan

    # Another seal took the rows first: the same rows sealed again move nothing.
    assert log.seal_outcomes("churn", rows) == 20
    assert log.seal_outcomes("churn", rows) == 0
    assert _count(db, outcome_segments) == 1 and _count(db, outcome_log) == 0
    assert _window(log, "churn") == before
    assert log.outcomes_of(ids) == {i: n % 2 for n, i in enumerate(ids)}


def test_a_large_batch_of_scored_predictions_outcomes_is_a_segment_shadow_pairs_read(
    db: Database, tmp_path: Path
) -> None:
    from lucid.storage.shadow import SqlShadowRepository

    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=10)
    served = SqlPredictionLog(db, tmp_path / "log", segment_rows=1_000)  # rows, as served
    ids = predictions.log_predictions(served, "churn", 1, _rows(30, "a"))
    _scored(db, ids[:3])

    predictions.log_outcomes(log, "churn", _outcomes(ids[:20]), now=OBSERVED)

    assert _count(db, outcome_log) == 0 and _count(db, outcome_segments) == 1
    assert log.counts("churn") == (30, 20)
    with db.transaction() as connection:
        pairs = SqlShadowRepository(connection, tmp_path / "log").pairs("s1")
    label = {i: n % 2 for n, i in enumerate(ids)}
    assert (pairs.logged, pairs.labels) == (3, [label[i] for i in sorted(ids[:3])])
    assert pairs.challenger == [0.5] * 3
