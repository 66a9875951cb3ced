"""The scenario's small rules: who gets the retention budget, the retention contract, and
served values stamped in UTC."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from lucid.contracts.events import format_time
from lucid.contracts.value import Direction
from lucid.errors import InvalidInput
from lucid.scenarios.churn.activity import SOURCES
from lucid.scenarios.churn.architecture import ArchitectureArm
from lucid.scenarios.churn.contracted import retention_contract, weekday_of
from lucid.scenarios.churn.entropic import EntropicArm, HandDeployedModels
from lucid.scenarios.churn.world import WorldConfig
from lucid.scenarios.churn.world_files import compact_parts
from lucid.storage.tables import served_features


def test_the_budget_goes_to_the_highest_scores_ties_broken_by_id() -> None:
    entities = ["c3", "c1", "c2", "c4"]
    scores = [0.2, 0.9, 0.2, 0.1]
    assert ArchitectureArm.top_at_risk(entities, scores, 0.5) == ["c1", "c2"]
    assert ArchitectureArm.top_at_risk(entities, scores, 0.0) == []
    assert ArchitectureArm.top_at_risk(entities, scores, 1.0) == ["c1", "c2", "c3", "c4"]


def test_the_retention_contract_sits_around_the_measured_baseline() -> None:
    contract = retention_contract(0.98512)
    assert contract.metric == "retention_7d"
    assert contract.direction is Direction.HIGHER
    assert contract.rollback_threshold < contract.baseline == 0.9851 < contract.target
    assert retention_contract(0.9989).target == 0.999  # capped below 1


def test_a_retention_contract_without_room_is_refused() -> None:
    with pytest.raises(InvalidInput):
        retention_contract(0.9995)  # the target cannot be above the baseline


def test_a_hand_deployed_model_has_no_contract() -> None:
    portfolio = HandDeployedModels(1).portfolio()
    assert portfolio.production_models == 1
    assert portfolio.share_without_contract == 1.0
    assert HandDeployedModels(0).portfolio().production_models == 0


def test_served_values_are_stamped_in_utc_whatever_the_machine_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The arm's world runs on naive UTC days; what it logs as served must not move with the
    machine's zone (here UTC+05:30)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    arm = EntropicArm("entropic", tmp_path / "arm", WorldConfig(customers=40, days=30, seed=3))
    try:
        customers = arm.world.active_customers()[:3]
        arm.serving_job(customers)
        with arm.lucid.db.transaction() as connection:
            stamps = connection.execute(
                select(served_features.c.served_at, served_features.c.as_of)
            ).all()
    finally:
        arm.close()
        monkeypatch.undo()
        time.tzset()
    now = format_time(arm.world.now.replace(tzinfo=UTC))
    assert stamps == [(now, now)] * len(customers)


def test_each_customer_is_scored_on_one_weekday_and_the_days_share_the_base() -> None:
    ids = [f"c{number:06d}" for number in range(7_000)]
    days = Counter(weekday_of(entity) for entity in ids)
    assert set(days) == set(range(7))
    assert all(900 <= count <= 1_100 for count in days.values()), days
    assert weekday_of("c000042") == weekday_of("c000042")


def test_compacting_a_weeks_parts_keeps_every_row_in_one_file(tmp_path: Path) -> None:
    for part in range(9):
        for source in SOURCES:
            folder = tmp_path / "data" / source
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"n": [part, part]}), folder / f"part-{part:05d}.parquet")
    compact_parts(tmp_path, 7)
    for source in SOURCES:
        files = sorted(path.name for path in (tmp_path / "data" / source).iterdir())
        assert files == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
        rows = pq.read_table(tmp_path / "data" / source).column("n").to_pylist()
        assert sorted(rows) == sorted([n for n in range(9) for _ in range(2)])
