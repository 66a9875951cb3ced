"""What materialisation reads: `latest_values` yields (entity_id, as_of, value, data_time) as
known at a time, for the entities the feature's sources know or, with a listing source
(docs/features.md "Entities"), exactly the ids that source holds as known at that time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lucid.contracts.semantic import (
    Aggregate,
    ColumnType,
    FeatureDefinition,
    Source,
    SourceKind,
    Term,
    ValueType,
)
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import InvalidInput
from tests.source_rows import feature_definition, write_source

T = datetime(2026, 3, 31, 12, 0, 0)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)

PURCHASES = Source(
    name="purchases",
    kind=SourceKind.PARQUET,
    location="data/purchases.parquet",
    entity="customer",
    entity_key="customer_id",
    event_time="purchased_at",
    schema={"customer_id": ColumnType.STRING, "purchased_at": ColumnType.TIMESTAMP},
)
CUSTOMERS = Source(
    name="customers",
    kind=SourceKind.PARQUET,
    location="data/customers.parquet",
    entity="customer",
    entity_key="customer_id",
    event_time="signed_up_at",
    ingestion_time="loaded_at",
    schema={
        "customer_id": ColumnType.INTEGER,
        "signed_up_at": ColumnType.TIMESTAMP,
        "loaded_at": ColumnType.TIMESTAMP,
    },
)


def purchases_30d(entity: str = "customer") -> FeatureDefinition:
    return feature_definition(
        "purchases_30d",
        ValueType.INTEGER,
        Term("purchases", Aggregate.COUNT),
        concept="purchases",
        entity=entity,
    )


def write_world(project: Path) -> None:
    """Purchases, and a customer listing with ids known at, before and after T."""
    write_source(
        project,
        PURCHASES,
        [("1", T - 3 * DAY), ("1", T - DAY), ("1", T + HOUR), ("ghost", T - 2 * DAY)],
    )
    write_source(
        project,
        CUSTOMERS,
        [
            (1, T - 10 * DAY, T - 10 * DAY),
            (1, T - 9 * DAY, T - 9 * DAY),  # listed twice: one spine row
            (4, T, T),  # signed up and loaded exactly at T: known
            (2, T + HOUR, T + HOUR),  # signs up after T
            (3, T - DAY, T + HOUR),  # loaded after T: not known at T
            (5, T - DAY, None),  # never loaded: never known
            (None, T - DAY, T - DAY),  # no key
        ],
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDBEngine]:
    write_world(tmp_path)
    with DuckDBEngine(tmp_path) as engine:
        yield engine


def rows(cursor: Any) -> list[tuple[Any, ...]]:
    return sorted(cursor.fetchall())


def test_rows_carry_the_data_time_of_the_latest_counted_event(engine: DuckDBEngine) -> None:
    found = rows(engine.latest_values(purchases_30d(), {"purchases": PURCHASES}, T))
    assert found == [("1", T, 2, T - DAY), ("ghost", T, 1, T - 2 * DAY)]


def test_a_listing_source_gives_exactly_its_ids_known_at_the_time(engine: DuckDBEngine) -> None:
    sources = {"purchases": PURCHASES, "customers": CUSTOMERS}
    at = T.replace(tzinfo=UTC) + timedelta(hours=5, minutes=30)  # an aware time: its instant
    at_t = rows(engine.latest_values(purchases_30d(), sources, T, keys=CUSTOMERS))
    # 1 and 4 are known at T; 2 and 3 are not yet, 5 never; ghost is not a customer.
    assert at_t == [("1", T, 2, T - DAY), ("4", T, 0, None)]
    listed = rows(engine.latest_values(purchases_30d(), sources, at, keys=CUSTOMERS))
    later = T + timedelta(hours=5, minutes=30)
    assert listed == [
        ("1", later, 3, T + HOUR),
        ("2", later, 0, None),
        ("3", later, 0, None),
        ("4", later, 0, None),
    ]


def test_a_listing_source_of_another_entity_is_refused(engine: DuckDBEngine) -> None:
    accounts = Source(**{**_fields(CUSTOMERS), "name": "accounts", "entity": "account"})
    with pytest.raises(InvalidInput, match="keys: source accounts lists account, not"):
        engine.latest_values(purchases_30d(), {"purchases": PURCHASES}, T, keys=accounts)


def _fields(source: Source) -> dict[str, Any]:
    return {name: getattr(source, name) for name in source.__slots__}
