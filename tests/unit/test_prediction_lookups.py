"""Prediction lookups by id: only the asked model's predictions (and version) are found."""

from __future__ import annotations

from pathlib import Path

from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.shadow import SqlShadowRepository


def _row(prediction_id: str, model: str, version: str, arm: str | None) -> dict[str, object]:
    return {
        "id": prediction_id,
        "model": model,
        "version": version,
        "entity": f"c-{prediction_id}",
        "served_at": "2019-01-02T00:00:00.000000Z",
        "features": "{}",
        "score": 0.5,
        "arm": arm,
    }


def test_lookups_by_id_keep_the_asked_model_and_version(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    schema.upgrade(db)
    try:
        _check(db)
    finally:
        db.dispose()


def _check(db: Database) -> None:
    log = SqlPredictionLog(db)
    log.insert_predictions(
        [
            _row("a1", "churn", "1", "control"),
            _row("a2", "churn", "2", None),
            _row("b1", "upsell", "1", "control"),
        ]
    )
    asked = ["a1", "a2", "b1", "missing"]

    assert log.predictions_by_id("churn", asked) == {
        "a1": "2019-01-02T00:00:00.000000Z",
        "a2": "2019-01-02T00:00:00.000000Z",
    }
    assert log.arms_of("churn", asked) == {"a1": ("c-a1", "control"), "a2": ("c-a2", None)}
    assert log.predictions_by_id("nobody", asked) == {}
    with db.transaction() as connection:
        shadow = SqlShadowRepository(connection)
        assert shadow.predictions_of("churn", None, asked) == {"a1", "a2"}
        assert shadow.predictions_of("churn", 2, asked) == {"a2"}
        assert shadow.predictions_of("upsell", 1, asked) == {"b1"}
