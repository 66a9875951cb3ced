"""The sources a policy watches, with the feature store, the registry and monitoring
together (SQLite and PostgreSQL): by default those behind the model's pinned features; a
source the feature store does not have is refused with one sentence and nothing is stored;
a run measures each watched source and stores its checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lucid.contracts.validity import MonitoringPolicy
from lucid.contracts.validity.source_health import SOURCE_METRICS, default_source_thresholds
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from lucid.features.store import FeatureStore
from lucid.monitoring.monitor import Monitoring
from lucid.monitoring.source_health import watched_sources
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_feature_serving import V1
from tests.contract.test_feature_serving import store as feature_store  # noqa: F401
from tests.contract.test_model_features import SPEND, register
from tests.contract.test_model_features import registry as pinned_registry  # noqa: F401
from tests.monitoring_world import Clock, monitoring_for


@pytest.fixture
def service(
    pinned_registry: ModelRegistry,  # noqa: F811
    db: Database,
    event_log: SqlEventLog,
    tmp_path: Path,
) -> Iterator[Monitoring]:
    """Monitoring of churn v1, which pins customer_activity_30d (purchases and logins) and
    customer_spend_30d (purchases)."""
    register(pinned_registry, [V1, SPEND])
    engine = DuckDBEngine(tmp_path)
    yield monitoring_for(
        db,
        event_log,
        lambda: engine,
        lambda: pinned_registry,
        clock=Clock(datetime(2026, 12, 1, tzinfo=UTC)),
    )
    engine.close()


def test_the_generic_policy_watches_the_sources_behind_the_pinned_features(
    service: Monitoring, db: Database, event_log: SqlEventLog
) -> None:
    policy = service.policy("churn")
    assert SOURCE_METRICS & policy.metrics >= {"source_volume_ratio", "schema_changes"}
    with SqlUnitsOfWork(db, event_log).read() as uow:
        assert sorted(watched_sources(uow, policy, "1")) == ["logins", "purchases"]
        named = replace(policy, sources=("logins",))
        assert sorted(watched_sources(uow, named, "1")) == ["logins"]


@pytest.mark.parametrize(
    ("sources", "feature", "field", "rule"),
    [
        (
            ("logins", "purchase"),
            None,
            "sources[1]",
            "'purchase' is not a source of the feature store (known: logins, purchases)",
        ),
        (
            None,
            "source:purchase",
            "thresholds[3].feature",
            "'purchase' is not a source of the feature store (known: logins, purchases)",
        ),
        (
            None,
            "source:purchases.amout",
            "thresholds[3].feature",
            "'amout' is not a column of source purchases (amount, customer_id, ingested_at, "
            "is_bot, is_test, purchased_at)",
        ),
    ],
)
def test_a_policy_naming_an_unknown_source_is_refused_and_nothing_is_stored(
    service: Monitoring,
    event_log: SqlEventLog,
    sources: tuple[str, ...] | None,
    feature: str | None,
    field: str,
    rule: str,
) -> None:
    volume = replace(default_source_thresholds()[0], feature=feature)
    template = MonitoringPolicy.churn_default("churn")
    policy = replace(template, thresholds=(*template.thresholds, volume), sources=sources)
    before = event_log.count()
    with pytest.raises(InvalidInput) as refused:
        service.set_policy(policy, actor="ana", rationale="watch the sources")
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert event_log.count() == before
    assert service.store.stored_policy("churn") is None


def test_a_run_measures_each_watched_source_and_stores_its_checks(
    service: Monitoring,
    feature_store: FeatureStore,  # noqa: F811
) -> None:
    template = MonitoringPolicy.churn_default("churn")
    policy = replace(
        template, thresholds=default_source_thresholds(), sources=("purchases", "logins")
    )
    service.set_policy(policy, actor="ana", rationale="watch the sources")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "entity": f"c{i}",
            "served_at": start + timedelta(minutes=i),
            "features": {"x": i},
            "score": 0.5,
        }
        for i in range(50)
    ]
    service.log_predictions("churn", 1, rows)
    service.build_profile("churn", 1, start=start, end=start + timedelta(days=1))
    report = service.run("churn", start=start, end=start + timedelta(days=1))
    checks = {(c["metric"], c["feature"]): c for c in report.record.checks}
    for name in ("purchases", "logins"):
        fresh = checks["source_freshness_hours", f"source:{name}"]
        assert fresh["level"] == "critical"  # the fixture's last events: T + 1 s, in March
        assert fresh["details"]["newest_event"] == "2026-03-31T12:00:01+00:00"
        assert checks["schema_changes", f"source:{name}"]["level"] == "ok"
    assert checks["source_volume_ratio", "source:purchases"]["details"]["window_rows"] == 0
