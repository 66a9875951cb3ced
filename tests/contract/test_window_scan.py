"""A run's window registered unread (its segments scanned by DuckDB on each query, unioned
with the SQL rows) holds the same rows, types and measurements as the window built as one
Arrow table: filtered by version and served-at time, outcomes joined, columns converted to
the profile's kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lucid.contracts.validity import MonitoringPolicy
from lucid.contracts.validity.profiles import ReferenceProfile
from lucid.engines.duckdb import DuckDBEngine
from lucid.monitoring import current_window, predictions
from lucid.monitoring.current_window import current_table, register_window
from lucid.monitoring.prediction_tables import log_prediction_table
from lucid.monitoring.profiles import build_profile
from lucid.monitoring.runs import measure_window
from lucid.monitoring.windows import Window
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog

DAY = datetime(2026, 11, 2, tzinfo=UTC)
WINDOW = Window("2026-11-02T00:00:00.000000Z", "2026-11-03T00:00:00.000000Z")


def _batch(n: int, start: datetime, prefix: str, *, tenure_text: bool = False) -> pa.Table:
    """`n` predictions a minute apart from `start`: `tenure` a number (or text), `plan` text,
    `n` an integer and `flag` a boolean, both profiled as categories, `gone` never logged."""
    return pa.table(
        {
            "entity": [f"{prefix}{i}" for i in range(n)],
            "served_at": pa.array(
                [start + timedelta(minutes=7 * i) for i in range(n)], pa.timestamp("us", "UTC")
            ),
            "score": [(i % 10) / 10 for i in range(n)],
            "tenure": [f"t{i}" for i in range(n)] if tenure_text else [i * 1.5 for i in range(n)],
            "plan": ["pro" if i % 3 else "basic" for i in range(n)],
            "n": [i % 4 for i in range(n)],
            "flag": [None if i % 5 == 0 else i % 2 == 0 for i in range(n)],
        }
    )


def _profile(engine: DuckDBEngine) -> ReferenceProfile:
    rows = 400
    reference = pa.table(
        {
            "tenure": [i * 0.9 for i in range(rows)],
            "plan": ["pro" if i % 2 else "basic" for i in range(rows)],
            "n": [str(i % 5) for i in range(rows)],
            "flag": ["true" if i % 3 else "false" for i in range(rows)],
            "gone": [float(i % 7) for i in range(rows)],
            "score": [(i % 10) / 10 for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
        }
    )
    engine.register("reference", reference)
    return build_profile(engine, "reference", label="label", score="score", multivariate=False)


def _logged(db: Database, tmp_path: Path) -> SqlPredictionLog:
    """Segments of versions 1 and 2 over two days (the window is the first) and a few SQL
    rows of version 1 inside and outside it, some with outcomes (rows and a segment)."""
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=50)
    first = log_prediction_table(log, "churn", "1", [_batch(300, DAY + timedelta(hours=1), "a")])
    log_prediction_table(log, "churn", "2", [_batch(120, DAY, "v2-")])
    small: list[dict[str, Any]] = [
        {
            "entity": f"r{i}",
            "served_at": DAY + timedelta(hours=20 + i),
            "features": {"tenure": 2.0 * i, "plan": "pro", "n": i, "flag": True},
            "score": 0.3,
        }
        for i in range(6)  # the last two are served the next day
    ]
    rows = predictions.log_predictions(log, "churn", 1, small)
    log.insert_outcomes(
        [
            {
                "prediction_id": prediction_id,
                "model": "churn",
                "label": index % 2,
                "observed_at": "2026-11-05T00:00:00.000000Z",
                "logged_at": "2026-11-05T00:00:00.000000Z",
            }
            for index, prediction_id in enumerate([*first[:40:3], *rows[:3]])
        ]
    )
    # A batch of at least `segment_rows` outcomes: an outcome segment, joined by DuckDB to
    # the segments (outcome rows beside) and to a prediction row.
    log.insert_outcomes(
        [
            {
                "prediction_id": prediction_id,
                "model": "churn",
                "label": index % 3 % 2,
                "observed_at": "2026-11-05T00:00:00.000000Z",
                "logged_at": "2026-11-05T00:00:00.000000Z",
            }
            for index, prediction_id in enumerate([*first[100:160], rows[3]])
        ]
    )
    return log


def _sorted_rows(table: pa.Table) -> list[str]:
    return sorted(map(str, zip(*table.to_pydict().values(), strict=True)))


def _measured(engine: DuckDBEngine, name: str, profile: ReferenceProfile) -> list[Any]:
    policy = MonitoringPolicy.churn_default("churn")
    found = measure_window(engine, name, profile, policy, labelled=True)
    return sorted((m.metric, m.feature or "", m.segment or "", m.value) for m in found)


def _scanned_views(engine: DuckDBEngine, name: str) -> int:
    [(views,)] = engine.query(
        f"SELECT count(*) FROM duckdb_views() WHERE view_name = '{name}' "
        "AND sql LIKE '%read_parquet%'"
    )
    return int(views)


def test_a_scanned_window_equals_the_built_one(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _logged(db, tmp_path)
    with DuckDBEngine(tmp_path) as engine:
        profile = _profile(engine)
        register_window(engine, "small", log, profile, "churn", WINDOW, "1")
        assert _scanned_views(engine, "small") == 0  # 300 rows: read into a table
        monkeypatch.setattr(current_window, "SCAN_ROWS", 100)
        labelled = register_window(engine, "scanned", log, profile, "churn", WINDOW, "1")
        built, built_labelled = current_table(log, profile, "churn", WINDOW, "1")
        engine.register("built", built)
        assert _scanned_views(engine, "scanned") == 1  # the segments are scanned, not held
        scanned = engine.connection.sql("SELECT * FROM scanned").to_arrow_table()
        assert labelled is built_labelled is True
        assert scanned.schema == built.schema
        # 198 of version 1 in the window, 4 SQL rows; version 2 and the next day left out
        assert scanned.num_rows == built.num_rows == 202
        assert _sorted_rows(scanned) == _sorted_rows(built)
        # 9 from outcome rows, 40 from the outcome segment, 1 a prediction row's from it
        assert scanned.column("label").drop_null().to_pylist().count(0) == 50
        assert _measured(engine, "scanned", profile) == _measured(engine, "built", profile)


def test_a_number_of_a_categorical_feature_falls_back_to_the_built_window(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(current_window, "SCAN_ROWS", 0)
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=50)
    log_prediction_table(
        log,
        "churn",
        "1",
        [
            _batch(100, DAY, "a")
            .drop_columns(["n"])
            .append_column("n", pa.array([i / 4 for i in range(100)]))
        ],
    )
    with DuckDBEngine(tmp_path) as engine:
        profile = _profile(engine)
        register_window(engine, "scanned", log, profile, "churn", WINDOW, "1")
        assert _scanned_views(engine, "scanned") == 0
        built, _ = current_table(log, profile, "churn", WINDOW, "1")
        scanned = engine.connection.sql("SELECT * FROM scanned").to_arrow_table()
        assert "0.25" in scanned.column("n").to_pylist()  # Arrow's text of 1/4; SQL's agrees
        assert "1" in scanned.column("n").to_pylist()  # and 1.0 is `1`, as Arrow writes it
        assert _sorted_rows(scanned) == _sorted_rows(built)


def test_a_window_without_segments_is_its_rows(db: Database, tmp_path: Path) -> None:
    log = SqlPredictionLog(db, tmp_path / "log", segment_rows=50)
    predictions.log_predictions(
        log,
        "churn",
        1,
        [
            {
                "entity": "r1",
                "served_at": DAY + timedelta(hours=1),
                "features": {"tenure": 1.0, "plan": "pro", "n": 1, "flag": True},
                "score": 0.4,
            }
        ],
    )
    with DuckDBEngine(tmp_path) as engine:
        profile = _profile(engine)
        assert register_window(engine, "w", log, profile, "churn", WINDOW, "1") is False
        built, _ = current_table(log, profile, "churn", WINDOW, "1")
        assert _sorted_rows(engine.connection.sql("SELECT * FROM w").to_arrow_table()) == (
            _sorted_rows(built)
        )
