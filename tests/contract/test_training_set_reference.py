"""Training sets from Lucid's engines equal, cell by cell, the ones docs/features.md prescribes,
recomputed by an independent reference (tests/training_set_reference.py) on generated worlds
(tests/training_set_worlds.py): events at, just before and just after window edges and label
times, late rows, NULL values and ingestion times, duplicates, ties, TTLs, and label times
given naive, aware in several zones and as ISO text with offsets, in SDK rows and in files.

One test per rule, so that a failure names the rule it breaks.
"""

from __future__ import annotations

import contextlib
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
    INTEGER_KEYS,
    LAST,
    LAST_NULL,
    LAST_TIES,
    MIDNIGHTS,
    NORMALISED_NULL,
    TTL,
    ZONES,
    Rules,
    World,
    worlds,
)

ENGINE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILE_SETTINGS = settings(ENGINE_SETTINGS, max_examples=20)  # two or three engines an example
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
@given(worlds(INTEGER_KEYS))
def test_entity_ids_are_compared_as_text(world: World) -> None:
    """Label ids "1", "30" are the entities 1 and 30 of an integer key column."""
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


@ENGINE_SETTINGS
@given(worlds(MIDNIGHTS))
def test_label_dates_mean_their_midnight_utc(world: World) -> None:
    check_on_duckdb(world, lambda _: sdk_rows(world, lambda t, _: t.date()))


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


@FILE_SETTINGS
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


@FILE_SETTINGS
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


def cells(world: World) -> list[tuple[Any, reference.Computed, Any]]:
    """(definition, value before the TTL rule, value served) for every label row."""
    found = []
    for entity, t in world.labels:
        for definition in world.definitions:
            computed = reference.compute(definition, world.sources, world.events, entity, t)
            found.append((definition, computed, reference.served(definition, computed, t)))
    return found


def _kept_latest(world: World) -> list[tuple[Any, list[dict[str, Any]]]]:
    """For each single-term `last` cell: the source and its kept events at the latest time."""
    found = []
    for entity, t in world.labels:
        for definition in world.definitions:
            [term] = definition.computation.terms
            source = world.sources[term.source]
            kept = [
                row
                for row in world.events[term.source]
                if reference.counts(row, term, definition, source, entity, t)
            ]
            newest = max((row[source.event_time] for row in kept), default=None)
            found.append((term, [row for row in kept if row[source.event_time] == newest]))
    return found


def _busy(world: World) -> bool:
    return sum(served not in (None, 0) for _, _, served in cells(world)) >= 6


def _null_latest(world: World) -> bool:
    return any(
        len(kept) == 1
        and kept[0][term.column] is None
        and world.sources[term.source].ingestion_time
        for term, kept in _kept_latest(world)
    ) and any(computed.value is not None for _, computed, _ in cells(world))


def _tied(world: World) -> bool:
    decided = [len({row[term.column] for row in kept}) > 1 for term, kept in _kept_latest(world)]
    return sum(decided) >= 4


def _aged(world: World) -> bool:
    return any(
        computed.value is not None and served is None and computed.data_time is not None
        for _, computed, served in cells(world)
    )


def first_world(rules: Rules, decides: Callable[[World], bool]) -> World:
    """The first world hypothesis generates (derandomized: always the same) for which
    `decides` holds."""
    found: list[World] = []

    @settings(
        max_examples=150,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(worlds(rules))
    def collect(world: World) -> None:
        if decides(world):
            found.append(world)
            raise _Found  # stops the search at the first one

    with contextlib.suppress(_Found):
        collect()
    assert found, "no generated world exercises the rule"
    return found[0]


class _Found(Exception):
    pass


def _capped_null(world: World) -> bool:
    return any(
        computed.value is None
        and any(term.normalise.parameter for term in definition.computation.terms)
        for definition, computed, _ in cells(world)
    )


#: for each rule, a world in which it decides some cell
SPARK_CASES = {
    "core": (CORE, _busy),
    "last-null": (LAST_NULL, _null_latest),
    "ties": (LAST_TIES, _tied),
    "ttl": (TTL, _aged),
    "normalised-null": (NORMALISED_NULL, _capped_null),
    "integer-keys": (INTEGER_KEYS, _busy),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", SPARK_CASES)
def test_spark_matches_the_reference(spark: Any, case: str) -> None:
    """A generated world in which the rule decides a cell, on Spark."""
    world = first_world(*SPARK_CASES[case])
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
