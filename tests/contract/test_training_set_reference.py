"""Training sets from Lucid's engines equal, cell by cell, the ones docs/features.md prescribes,
recomputed by an independent reference (tests/training_set_reference.py) on generated worlds
(tests/training_set_worlds.py): events at, just before and just after window edges and label
times, late rows, NULL values and ingestion times, duplicates, ties, TTLs, and label times
given naive, aware in several zones and as ISO text with offsets, in SDK rows and in files.

One test per rule, so that a failure names the rule it breaks.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lucid.engines.duckdb import DuckDBEngine
from lucid.engines.spark import SparkEngine
from tests import training_set_reference as reference
from tests.training_set_worlds import (
    CORE,
    LAST,
    LAST_NULL,
    LAST_TIES,
    NORMALISED_NULL,
    TTL,
    ZONES,
    World,
    worlds,
)

ENGINE_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
Labels = str | Path | Sequence[dict[str, Any]]


def sdk_rows(world: World, present: Callable[[datetime, int], object] = lambda t, _: t) -> Labels:
    """The labels as SDK rows: `present` gives the label time's form for row n."""
    return [
        {"row": number, "customer": entity, "at": present(t, number), "y": number % 2}
        for number, (entity, t) in enumerate(world.labels)
    ]


def aware(t: datetime, zone: str) -> datetime:
    return t.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))


def compare(world: World, found: list[dict[str, Any]]) -> None:
    """Every cell of the engine's set equals the reference's; says which one does not."""
    expected = reference.training_set(world.labels, world.definitions, world.sources, world.events)
    assert len(found) == len(expected), "one training row per label row"
    by_row = {row["row"]: row for row in found}
    assert sorted(by_row) == list(range(len(expected))), "each label row once"
    for number, values in enumerate(expected):
        entity, t = world.labels[number]
        for definition, value in zip(world.definitions, values, strict=True):
            got = by_row[number][definition.name]
            assert _same(got, value), (
                f"label row {number} ({entity}, {t.isoformat()}), {definition.name}: "
                f"engine {got!r}, reference {value!r} in\n{world!r}"
            )


def _same(found: Any, expected: Any) -> bool:
    if expected is None or found is None:
        return found is None and expected is None
    if isinstance(expected, str) or isinstance(found, str):
        return bool(found == expected)
    return math.isclose(float(found), float(expected), rel_tol=1e-9, abs_tol=1e-9)


def duckdb_set(
    world: World, labels: Labels, project: Path, zone: str | None = None
) -> list[dict[str, Any]]:
    world.write(project, zone)
    with DuckDBEngine(project) as engine:
        return engine.training_set(
            labels, world.definitions, world.sources, entity_column="customer", time_column="at"
        ).to_dicts()


def check_on_duckdb(
    world: World, labels: Callable[[Path], Labels] | None = None, zone: str | None = None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        given_labels = labels(project) if labels else sdk_rows(world)
        compare(world, duckdb_set(world, given_labels, project, zone))


# --- rules that hold on naive UTC times -----------------------------------------------------


@ENGINE_SETTINGS
@given(worlds(CORE))
def test_windows_as_known_at_and_aggregates_match_the_reference(world: World) -> None:
    """Windows (both edges), as known at (late rows, NULL ingestion times, the ingestion
    boundary), exclusions, filters, NULL values, duplicates and every aggregate but `last`."""
    check_on_duckdb(world)


@ENGINE_SETTINGS
@given(worlds(NORMALISED_NULL))
def test_a_normalised_null_aggregate_stays_null(world: World) -> None:
    """`avg`, `min`, `max` of no value are NULL (Aggregates), and so is their cap: min(x, cap)
    / cap of NULL is NULL."""
    check_on_duckdb(world)


@ENGINE_SETTINGS
@given(worlds(LAST))
def test_last_matches_the_reference(world: World) -> None:
    """`last` with no NULL value and no two events of an entity at one time."""
    check_on_duckdb(world)


@ENGINE_SETTINGS
@given(worlds(LAST_NULL))
def test_last_keeps_a_null_latest_value(world: World) -> None:
    """`last keeps a NULL`: the latest kept event's NULL is the value, with or without an
    ingestion time."""
    check_on_duckdb(world)


@ENGINE_SETTINGS
@given(worlds(LAST_TIES))
def test_last_breaks_ties_by_ingestion_then_greatest_value(world: World) -> None:
    """Ties: the latest event time, then the one ingested last, then the greatest value."""
    check_on_duckdb(world)


@ENGINE_SETTINGS
@given(worlds(TTL))
def test_ttl_is_the_maximum_age_of_the_data(world: World) -> None:
    """Data time and TTL: a value whose latest event is older than the TTL at the label time,
    or an empty window under a TTL, is NULL."""
    check_on_duckdb(world)


# --- the time rule ----------------------------------------------------------------------------


def zones_for(world: World) -> st.SearchStrategy[list[str]]:
    n = len(world.labels)
    return st.lists(st.sampled_from(ZONES), min_size=n, max_size=n)


@ENGINE_SETTINGS
@given(worlds(CORE), st.data())
def test_label_times_aware_in_any_zone_are_their_instant(world: World, data: st.DataObject) -> None:
    zones = data.draw(zones_for(world))
    check_on_duckdb(world, lambda _: sdk_rows(world, lambda t, n: aware(t, zones[n])))


@ENGINE_SETTINGS
@given(worlds(CORE), st.data())
def test_label_times_as_text_with_offsets_are_their_instant(
    world: World, data: st.DataObject
) -> None:
    zones = data.draw(zones_for(world))
    check_on_duckdb(world, lambda _: sdk_rows(world, lambda t, n: aware(t, zones[n]).isoformat()))


@ENGINE_SETTINGS
@given(worlds(CORE))
def test_naive_label_text_and_z_text_mean_utc(world: World) -> None:
    check_on_duckdb(
        world,
        lambda _: sdk_rows(world, lambda t, n: t.isoformat() + ("Z" if n % 2 else "")),
    )


def label_file(world: World, project: Path, suffix: str, times: pa.Array) -> Path:
    table = pa.table(
        {
            "row": pa.array(range(len(world.labels)), pa.int64()),
            "customer": [entity for entity, _ in world.labels],
            "at": times,
        }
    )
    path = project / f"labels{suffix}"
    if suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


@ENGINE_SETTINGS
@given(worlds(CORE))
def test_label_files_with_naive_times_match_the_reference(world: World) -> None:
    """CSV (naive ISO text) and Parquet (naive timestamps): both mean UTC."""
    naive = [t for _, t in world.labels]
    check_on_duckdb(
        world, lambda p: label_file(world, p, ".csv", pa.array([t.isoformat() for t in naive]))
    )
    check_on_duckdb(
        world, lambda p: label_file(world, p, ".parquet", pa.array(naive, pa.timestamp("us")))
    )


@ENGINE_SETTINGS
@given(worlds(CORE), st.data())
def test_label_files_with_offsets_and_zones_match_the_reference(
    world: World, data: st.DataObject
) -> None:
    """CSV and Parquet text with offsets, and a Parquet timestamp column with a zone."""
    zones = data.draw(zones_for(world))
    text = pa.array([aware(t, zones[n]).isoformat() for n, (_, t) in enumerate(world.labels)])
    zone = zones[0]
    stamped = pa.array([aware(t, zone) for _, t in world.labels], pa.timestamp("us", tz=zone))
    check_on_duckdb(world, lambda p: label_file(world, p, ".csv", text))
    check_on_duckdb(world, lambda p: label_file(world, p, ".parquet", text))
    check_on_duckdb(world, lambda p: label_file(world, p, ".parquet", stamped))


@ENGINE_SETTINGS
@given(worlds(CORE), st.sampled_from(ZONES))
def test_source_times_with_a_zone_are_their_instant(world: World, zone: str) -> None:
    """Event and ingestion times stored as zone-aware Parquet timestamps."""
    check_on_duckdb(world, zone=zone)


# --- Spark: a few of the same worlds --------------------------------------------------------

SPARK_SETTINGS = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "rules", [CORE, LAST, LAST_NULL, TTL], ids=["core", "last", "last-null", "ttl"]
)
def test_spark_matches_the_reference(spark: Any, rules: Any) -> None:
    @SPARK_SETTINGS
    @given(worlds(rules))
    def run(world: World) -> None:
        with tempfile.TemporaryDirectory() as folder:
            project = Path(folder)
            world.write(project)
            found = (
                SparkEngine(project, spark)
                .training_set(
                    sdk_rows(world),
                    world.definitions,
                    world.sources,
                    entity_column="customer",
                    time_column="at",
                )
                .to_dicts()
            )
            compare(world, found)

    run()
