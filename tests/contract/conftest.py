"""Fixtures shared by the contract suites (`db` and `event_log` come from tests/conftest.py).

A module that needs another shape defines a fixture of the same name, which pytest prefers
there: test_registry.py and test_experiments.py keep their minute-stepping `clock`, and each
suite that builds its registry otherwise keeps its own `registry`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from lucid.bootstrap import utc_now
from lucid.engines.duckdb import DuckDBEngine
from lucid.experiments.lab import Experiments
from lucid.registry.model_registry import ModelRegistry
from lucid.registry.produced import ProducedEvidence
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_registry import register, seed_hub_cache, to_production
from tests.monitoring_world import DAY3, Clock, HttpReceiver, http_receiver


@pytest.fixture
def clock() -> Clock:
    return Clock(DAY3 + timedelta(hours=2))


@pytest.fixture
def registry(db: Database, event_log: SqlEventLog, tmp_path: Path) -> ModelRegistry:
    """churn v1 then v2 in production (v1 is what a rollback returns to)."""
    registry = ModelRegistry(
        SqlUnitsOfWork(db, event_log),
        event_log,
        ArtifactStore(str(tmp_path / "artifacts")),
        HuggingFaceHub(offline=True, cache_dir=tmp_path / "hf"),
        approvers=["bea"],
        clock=utc_now,
    )
    for version in (1, 2):
        register(registry)
        to_production(registry, version)
    return registry


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_hub_cache(tmp_path_factory.mktemp("hf-cache"))


@pytest.fixture
def lab(db: Database, event_log: SqlEventLog, registry: ModelRegistry, clock: Clock) -> Experiments:
    return Experiments(SqlUnitsOfWork(db, event_log), ProducedEvidence(registry), clock=clock)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine() as duck:
        yield duck
