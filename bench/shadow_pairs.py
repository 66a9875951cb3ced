"""A shadow comparison's pairs read from the columnar log, beside the SQL join of rows that
read them before the pairs knew segments.

Logs `--rows` predictions of churn (one ended UTC day, as rows), a shadow score and an outcome
for each (rows), then times, best of `--repeat`:

- *SQL join*: scores x prediction rows x outcome rows joined in SQL, ordered by prediction id,
  returned as Python lists (the query `SqlShadowRepository.pairs` ran when scored
  predictions and their outcomes stayed rows);
- *pairs, rows*: `SqlShadowRepository.pairs` on the same rows;
- *pairs, sealed*: the same after `seal_predictions` moved every prediction and outcome into
  segments (DuckDB joins the scores to the Parquet files).

The three answers are checked equal.

    uv run python bench/shadow_pairs.py [--rows 200000] [--repeat 3] [--database-url URL]

`--database-url` (an empty PostgreSQL database, say) replaces the temporary SQLite file.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DAY = datetime(2026, 11, 2, tzinfo=UTC)
COMPARISON = "churn-v2-shadow"


def _best(repeat: int, read: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeat` reads and the last answer."""
    best, answer = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = read()
        best = min(best, time.perf_counter() - started)
    return best, answer


def _sql_join(db: Any) -> tuple[list[int], list[float], list[float]]:
    from sqlalchemy import select

    from lucid.storage.tables import outcome_log, prediction_log, shadow_scores

    with db.transaction() as connection:
        rows = connection.execute(
            select(outcome_log.c.label, shadow_scores.c.score, prediction_log.c.score)
            .select_from(
                shadow_scores.join(
                    prediction_log, prediction_log.c.id == shadow_scores.c.prediction_id
                ).join(outcome_log, outcome_log.c.prediction_id == shadow_scores.c.prediction_id)
            )
            .where(shadow_scores.c.comparison_id == COMPARISON)
            .order_by(shadow_scores.c.prediction_id)
        ).all()
    return [int(r[0]) for r in rows], [float(r[1]) for r in rows], [float(r[2]) for r in rows]


def _pairs(db: Any, root: Path) -> tuple[list[int], list[float], list[float]]:
    from lucid.storage.shadow import SqlShadowRepository

    with db.transaction() as connection:
        found = SqlShadowRepository(connection, root).pairs(COMPARISON)
    return found.labels, found.challenger, found.control


def _logged(db: Any, root: Path, count: int) -> None:
    """`count` predictions of churn@1 as rows, a shadow score and an outcome of each."""
    from lucid.monitoring import predictions
    from lucid.storage.prediction_log import SqlPredictionLog
    from lucid.storage.shadow import SqlShadowRepository
    from lucid.storage.tables import shadow_comparisons

    log = SqlPredictionLog(db, root, segment_rows=10**9)  # every batch: rows
    step = 86_400_000_000 // count
    ids: list[str] = []
    for start in range(0, count, 50_000):
        ids += predictions.log_predictions(
            log,
            "churn",
            1,
            [
                {
                    "entity": f"c{i % 50_000}",
                    "served_at": DAY + timedelta(microseconds=i * step),
                    "features": {"x": i % 997 / 7, "plan": ("basic", "pro")[i % 2]},
                    "score": (i % 1000) / 1000,
                }
                for i in range(start, min(count, start + 50_000))
            ],
        )
    with db.transaction() as connection:
        connection.execute(
            shadow_comparisons.insert(),
            [
                {
                    "id": COMPARISON,
                    "model": "churn",
                    "control_version": 1,
                    "challenger_version": 2,
                    "design": "{}",
                    "status": "running",
                    "created_at": "2026-11-01T00:00:00.000000Z",
                    "created_by": "bench",
                }
            ],
        )
        SqlShadowRepository(connection).add_scores(
            [
                {"comparison_id": COMPARISON, "prediction_id": i, "score": (n % 997) / 997}
                for n, i in enumerate(ids)
            ]
        )
    observed = DAY + timedelta(days=1)
    for start in range(0, count, 50_000):
        predictions.log_outcomes(
            log,
            "churn",
            [
                {"prediction_id": i, "label": int(n % 3 == 0), "observed_at": observed}
                for n, i in enumerate(ids[start : start + 50_000], start)
            ],
            now=observed,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()

    from lucid.monitoring.prediction_seal import seal_predictions
    from lucid.storage import schema
    from lucid.storage.database import Database
    from lucid.storage.prediction_log import SqlPredictionLog

    folder = Path(tempfile.mkdtemp(prefix="lucid-shadow-"))
    root = folder / "log"
    db = Database(arguments.database_url or f"sqlite:///{folder / 'metadata.db'}")
    try:
        schema.upgrade(db)
        started = time.perf_counter()
        _logged(db, root, arguments.rows)
        setup = time.perf_counter() - started
        joined, expected = _best(arguments.repeat, lambda: _sql_join(db))
        as_rows, found = _best(arguments.repeat, lambda: _pairs(db, root))
        assert found == expected and len(expected[0]) == arguments.rows
        report = seal_predictions(SqlPredictionLog(db, root), now=DAY + timedelta(days=3))
        assert report.rows == report.outcomes == arguments.rows
        sealed, found = _best(arguments.repeat, lambda: _pairs(db, root))
        assert found == expected
    finally:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"{db.dialect}, {arguments.rows:,} scored predictions with outcomes (set up {setup:.0f} s)"
    )
    print(f"SQL join of rows (before):        {joined:.3f} s")
    print(f"pairs, every one a row:           {as_rows:.3f} s")
    print(
        f"pairs, sealed ({report.segments} prediction + {report.outcome_segments} outcome "
        f"segments): {sealed:.3f} s"
    )
    print(f"best of {arguments.repeat}; the three answers equal")


if __name__ == "__main__":
    main()
