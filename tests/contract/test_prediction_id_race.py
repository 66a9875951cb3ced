"""Two writers racing with the same caller-chosen prediction id on every metadata database:
a small batch (rows) and a large one (a segment), each through its own connection pool.
Exactly one is stored; the other is refused with one sentence naming the id, nothing of it
stored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lucid.errors import Conflict
from lucid.monitoring import predictions
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog

DAY = datetime(2026, 11, 2, tzinfo=UTC)
ROUNDS = 12


def _rows(n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-{i}",
            "entity": f"{prefix}{i}",
            "served_at": DAY + timedelta(minutes=i),
            "features": {"tenure": float(i)},
            "score": 0.5,
        }
        for i in range(n)
    ]


def _race(logs: list[SqlPredictionLog], batches: list[list[dict[str, Any]]]) -> list[Any]:
    """Each log writes its batch, both released at once; what each returned or raised."""
    return both(
        [
            lambda: predictions.log_predictions(logs[0], "churn", 1, batches[0]),
            lambda: predictions.log_predictions(logs[1], "churn", 1, batches[1]),
        ]
    )


def both(calls: list[Callable[[], Any]]) -> list[Any]:
    """Two calls in two threads released at once; what each returned or the `Conflict` it
    raised."""
    outcome: list[Any] = [None, None]
    start = threading.Barrier(2)

    def write(index: int) -> None:
        start.wait()
        try:
            outcome[index] = calls[index]()
        except Conflict as refusal:
            outcome[index] = refusal

    threads = [threading.Thread(target=write, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def test_one_of_two_writers_of_an_id_wins(database_url: str, db: Database, tmp_path: Path) -> None:
    root = tmp_path / "log"
    other = Database(database_url)
    logs = [
        SqlPredictionLog(db, root, segment_rows=50),
        SqlPredictionLog(other, root, segment_rows=50),
    ]
    try:
        expected = 0
        for round_ in range(ROUNDS):
            shared = f"race{round_}"
            small = [_rows(1, f"s{round_}")[0] | {"id": shared}]
            large = _rows(400, f"l{round_}")
            large[-1]["id"] = shared
            batches = [small, large] if round_ % 2 else [large, small]
            outcome = _race(logs, batches)

            refused = [o for o in outcome if isinstance(o, Conflict)]
            stored = [o for o in outcome if isinstance(o, list)]
            assert len(refused) == 1 and len(stored) == 1, outcome
            assert str(refused[0]) == (
                f"rows.id: '{shared}' is already logged; a prediction id is unique, "
                "nothing was stored."
            )
            expected += len(stored[0])
            assert logs[0].counts("churn") == (expected, 0)
            assert logs[1].existing_ids([shared]) == {shared}
        assert logs[0].segments is not None
        registered = logs[0].segments.files()
        assert sorted(map(str, root.rglob("*.parquet"))) == sorted(registered)
    finally:
        other.dispose()
