"""The churn world generator: determinism, shocks visible in its data, treatments, labels."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pytest

from lucid.errors import InvalidInput
from lucid.scenarios.churn.activity import SOURCES
from lucid.scenarios.churn.shocks import NewSegmentArrival, PandemicShift, SignalRemoved
from lucid.scenarios.churn.world import World, WorldConfig
from lucid.scenarios.churn.world_files import write_world


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.parquet"))
    }


def test_the_same_seed_writes_byte_identical_tables_and_another_seed_does_not(
    tmp_path: Path,
) -> None:
    hashes = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_world(World(WorldConfig(customers=300, days=90, seed=seed)).run(), tmp_path / name)
        hashes.append(file_hashes(tmp_path / name))
    assert len(hashes[0]) == len(SOURCES) + 1
    assert hashes[0] == hashes[1]
    assert all(hashes[0][name] != hashes[2][name] for name in hashes[0])


def test_stepping_in_pieces_lives_the_same_world_as_one_run() -> None:
    config = WorldConfig(customers=300, days=90, seed=5)
    whole = World(config).run()
    pieces = World(config)
    for days in (10, 30, 50):
        pieces.step(days)
    assert pieces.customers().equals(whole.customers())


@pytest.fixture(scope="module")
def shocked(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, duckdb.DuckDBPyConnection]:
    """A 2,000-customer, 200-day world with the default schedule (outage 60, pandemic 80,
    NULLs 100, new segment 120, price change 140, regulation 160; seasonal peak 34–54)."""
    world = World(WorldConfig(customers=2_000, days=200, seed=11)).run()
    folder = tmp_path_factory.mktemp("shocked")
    write_world(world, folder)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for name in (*SOURCES, "customers"):
        connection.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{folder}/data/{name}/*.parquet')"
        )
    return world, connection


def per_customer_day(
    world: World, connection: duckdb.DuckDBPyConnection, source: str
) -> tuple[float, float]:
    """Real (non-bot, non-test) events per active customer per day, averaged over days."""
    time = {"logins": "logged_in_at", "purchases": "purchased_at"}[source]
    test = " AND NOT is_test" if source == "purchases" else ""
    rows = connection.execute(
        f"SELECT date_trunc('day', {time}) AS day, count(*) FROM {source} "
        f"WHERE NOT is_bot{test} GROUP BY 1"
    ).fetchall()
    counts = {day: count for day, count in rows}
    shares = [
        counts.get(world.moment(day), 0) / world.retention(day, day).customers_at_start
        for day in range(50, 110)
    ]
    return float(np.mean(shares[:30])), float(np.mean(shares[30:]))


def test_the_pandemic_raises_logins_and_cuts_purchases(shocked) -> None:
    world, connection = shocked
    pandemic = next(s for s in world.shocks if isinstance(s, PandemicShift))
    assert pandemic.day == 80
    logins_before, logins_after = per_customer_day(world, connection, "logins")
    purchases_before, purchases_after = per_customer_day(world, connection, "purchases")
    print(f"logins/customer/day {logins_before:.3f} -> {logins_after:.3f}")
    print(f"purchases/customer/day {purchases_before:.4f} -> {purchases_after:.4f}")
    assert logins_after / logins_before == pytest.approx(1.8, rel=0.15)
    assert purchases_after / purchases_before == pytest.approx(0.5, rel=0.15)


def test_the_new_segment_signs_up_only_from_its_day(shocked) -> None:
    world, connection = shocked
    arrival = next(s for s in world.shocks if isinstance(s, NewSegmentArrival))
    before, after = connection.execute(
        "SELECT count(*) FILTER (WHERE segment = 'freelancer' AND signup_at < ?), "
        "avg(CASE WHEN segment = 'freelancer' THEN 1 ELSE 0 END) FILTER (WHERE signup_at >= ?) "
        "FROM customers",
        [world.moment(arrival.day), world.moment(arrival.day)],
    ).fetchone()
    print(f"freelancer share of signups after day {arrival.day}: {after:.0%}")
    assert before == 0
    assert after > 0.6


def test_the_regulation_stops_login_rows_and_nothing_else(shocked) -> None:
    world, connection = shocked
    removed = next(s for s in world.shocks if isinstance(s, SignalRemoved))
    start = world.moment(removed.day)
    logins_after, logins_before, purchases_after = connection.execute(
        "SELECT (SELECT count(*) FROM logins WHERE logged_in_at >= $1), "
        "(SELECT count(*) FROM logins WHERE logged_in_at >= $1 - INTERVAL 10 DAY "
        "AND logged_in_at < $1), "
        "(SELECT count(*) FROM purchases WHERE purchased_at >= $1)",
        [start],
    ).fetchone()
    assert logins_after == 0
    assert logins_before > 10_000
    assert purchases_after > 0


def test_bots_tests_and_late_rows_are_there_and_flagged(shocked) -> None:
    _, connection = shocked
    bot_rows, bots_known, tests, late, total = connection.execute(
        "SELECT (SELECT count(*) FROM logins WHERE is_bot), "
        "(SELECT count(*) FROM customers WHERE customer_id LIKE 'bot%'), "
        "(SELECT count(*) FROM purchases WHERE is_test), "
        "(SELECT count(*) FROM purchases WHERE ingested_at > purchased_at + INTERVAL 1 DAY), "
        "(SELECT count(*) FROM purchases)"
    ).fetchone()
    assert bot_rows > 0 and tests > 0
    assert bots_known == 0  # bot accounts are not customers
    assert late / total == pytest.approx(0.03, abs=0.01)
    assert (
        connection.execute(
            "SELECT count(*) FROM logins WHERE ingested_at <= logged_in_at"
        ).fetchone()[0]
        == 0
    )


def test_labels_mark_churn_within_30_days_of_active_customers_only(shocked) -> None:
    world, connection = shocked
    labels = world.labels([60, 100]).to_pylist()
    churned = dict(connection.execute("SELECT customer_id, churned_at FROM customers").fetchall())
    assert labels
    for row in labels:
        at, churned_at = row["timestamp"], churned[row["entity_id"]]
        assert churned_at is None or churned_at > at
        expected = churned_at is not None and (churned_at - at).days < 30
        assert row["churned_within_30d"] == int(expected)
    with pytest.raises(InvalidInput, match="snapshot_days"):
        world.labels([180])


def test_treatment_cuts_the_treated_churn_by_the_stated_effect_and_nothing_else() -> None:
    config = WorldConfig(customers=6_000, days=120, seed=2, shocks=(), treatment_effect=0.5)
    control, treated_world = World(config), World(config)
    treated = set(control.active_customers()[::2])
    control.step(90)
    period = treated_world.step(90, treated=treated | {"bot0000", "nobody"})
    assert period.treated == len(treated)
    before, after = control.customers().to_pylist(), treated_world.customers().to_pylist()
    churned_control = sum(
        row["churned_at"] is not None for row in before if row["customer_id"] in treated
    )
    churned_treated = sum(
        row["churned_at"] is not None for row in after if row["customer_id"] in treated
    )
    ratio = churned_treated / churned_control
    print(f"treated churn {churned_treated} vs {churned_control} untreated: ratio {ratio:.2f}")
    assert ratio == pytest.approx(1 - config.treatment_effect, abs=0.07)
    untreated = [
        (b, a) for b, a in zip(before, after, strict=True) if b["customer_id"] not in treated
    ]
    assert all(b == a for b, a in untreated)
    control_rows, treated_rows = control.take_rows(), treated_world.take_rows()
    others = np.array([world_id not in treated for world_id in control.owner_ids])
    for source in SOURCES:
        keep_c = others[control_rows[source]["owner"]]
        keep_t = others[treated_rows[source]["owner"]]
        for column, values in control_rows[source].items():
            assert np.array_equal(values[keep_c], treated_rows[source][column][keep_t]), column
    assert treated_world.retention(0, 90).retention_rate > control.retention(0, 90).retention_rate


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"customers": -5}, "customers"), ({"days": 0}, "days"), ({"seed": -1}, "seed")],
)
def test_bad_sizes_are_refused_with_the_field_named(kwargs, field) -> None:
    with pytest.raises(InvalidInput) as error:
        WorldConfig(**kwargs)
    assert error.value.field == field


def test_a_world_cannot_step_past_its_end() -> None:
    world = World(WorldConfig(customers=50, days=10, shocks=()))
    world.step(8)
    with pytest.raises(InvalidInput, match="2 days are left"):
        world.step(3)
