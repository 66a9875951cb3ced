"""Two writers racing with outcomes of the same prediction on every metadata database: a
small batch (a row) and a large one (an outcome segment), each through its own connection
pool, with different labels. Exactly one is stored; the other is refused with the sentence
a second outcome always gets, nothing of it stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from lucid.errors import Conflict
from lucid.monitoring import predictions
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog
from tests.contract.test_prediction_id_race import DAY, _rows, both

ROUNDS = 8
NOW = DAY + timedelta(days=1)


def _race(logs: list[SqlPredictionLog], batches: list[list[dict[str, Any]]]) -> list[Any]:
    """Each log writes its outcomes, both released at once; what each returned or raised."""
    return both(
        [
            lambda: predictions.log_outcomes(logs[0], "churn", batches[0], now=NOW),
            lambda: predictions.log_outcomes(logs[1], "churn", batches[1], now=NOW),
        ]
    )


def test_one_of_two_outcomes_of_a_prediction_wins(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "log"
    other = Database(database_url)
    logs = [
        SqlPredictionLog(db, root, segment_rows=50),
        SqlPredictionLog(other, root, segment_rows=50),
    ]
    try:
        expected = 0
        for round_ in range(ROUNDS):
            ids = predictions.log_predictions(logs[0], "churn", 1, _rows(100, f"r{round_}-"))
            shared = ids[-1]
            small = [{"prediction_id": shared, "label": 0, "observed_at": NOW}]
            large = [{"prediction_id": i, "label": 1, "observed_at": NOW} for i in ids]
            batches = [small, large] if round_ % 2 else [large, small]
            outcome = _race(logs, batches)

            refused = [o for o in outcome if isinstance(o, Conflict)]
            stored = [o for o in outcome if not isinstance(o, Conflict)]
            assert len(refused) == 1 and len(stored) == 1, outcome
            assert f"prediction {shared} already has the outcome" in str(refused[0])
            assert str(refused[0]).endswith("a prediction has one outcome, nothing was stored.")
            expected += stored[0].logged
            assert logs[0].counts("churn")[1] == expected
        assert logs[0].outcomes.segments is not None
        registered = logs[0].outcomes.segments.files()
        assert sorted(map(str, (root / "outcomes").rglob("*.parquet"))) == sorted(registered)
    finally:
        other.dispose()
