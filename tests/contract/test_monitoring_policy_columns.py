"""A policy naming a column its model does not have is refused with one sentence before
anything is stored (SQLite and PostgreSQL); the model's own columns are accepted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lucid.contracts.validity import MonitoringPolicy
from lucid.errors import InvalidInput
from lucid.monitoring.monitor import Monitoring
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from tests.contract.test_monitoring_actions import monitoring
from tests.monitoring_world import DAY1, DAY2, Clock, prediction_rows


def watched(service: Monitoring) -> None:
    """churn v2 (registered by the fixture) profiled over DAY1, its logged columns known."""
    rows, outcomes = prediction_rows(DAY1, 2000, seed=1)
    service.log_predictions("churn", 2, rows)
    service.log_outcomes("churn", outcomes)
    service.build_profile("churn", 2, start=DAY1, end=DAY2)


def on(column: str | None = None, segment: str | None = None) -> MonitoringPolicy:
    """The churn template with its PSI threshold restricted to `column` / `segment`."""
    template = MonitoringPolicy.churn_default("churn")
    psi = replace(template.thresholds[0], feature=column, segment=segment)
    return template.with_thresholds([psi, *template.thresholds[1:]])


@pytest.mark.parametrize(
    ("policy", "field", "column"),
    [
        (on("tenur"), "thresholds[0].feature", "tenur"),
        (on("customer_activity_30d@1"), "thresholds[0].feature", "customer_activity_30d@1"),
        (on(segment="plann=pro"), "thresholds[0].segment", "plann"),
    ],
)
def test_a_threshold_on_an_unknown_column_is_refused_and_nothing_is_stored(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    policy: MonitoringPolicy,
    field: str,
    column: str,
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    watched(service)
    before = event_log.count()
    with pytest.raises(InvalidInput) as refused:
        service.set_policy(policy, actor="ana", rationale="watch it")
    assert refused.value.field == field
    assert refused.value.rule.startswith(
        f"{column!r} is not a column of churn: a threshold watches one of its pinned features "
        "or logged columns ("
    )
    assert "tenure" in refused.value.rule and "plan" in refused.value.rule
    assert event_log.count() == before
    assert service.store.stored_policy("churn") is None


@pytest.mark.parametrize(
    "policy",
    [on("tenure"), on("customer_activity_30d"), on("score"), on(segment="plan=pro")],
)
def test_a_threshold_on_a_column_of_the_model_is_stored(
    db: Database,
    event_log: SqlEventLog,
    registry: ModelRegistry,
    engine: Any,
    clock: Clock,
    policy: MonitoringPolicy,
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    watched(service)
    service.set_policy(policy, actor="ana", rationale="watch it")
    assert service.store.stored_policy("churn") == policy


def test_a_model_nothing_is_known_of_is_not_checked(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, engine: Any, clock: Clock
) -> None:
    service = monitoring(db, event_log, registry, engine, clock)
    policy = replace(on("anything"), model="upsell")
    service.set_policy(policy, actor="ana", rationale="before registering it")
    assert service.store.stored_policy("upsell") == policy
