"""The churn world's calibration, its shock schedule and each shock as its data shows it: the
outage's late rows, the pipeline's NULLs, the price change's plan mix, the seasonal peak."""

from __future__ import annotations

from itertools import pairwise

import duckdb
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from lucid.errors import InvalidInput
from lucid.monitoring.statistics import psi
from lucid.scenarios.churn.activity import DAY_US, Array
from lucid.scenarios.churn.churn_hazard import PLANS
from lucid.scenarios.churn.population import draw_population
from lucid.scenarios.churn.shocks import (
    NullValues,
    PriceChange,
    SeasonalPeak,
    SourceOutage,
    default_seasons,
    default_shocks,
)
from lucid.scenarios.churn.world import World, WorldConfig
from lucid.scenarios.churn.world_files import write_world


def recorded_30d(
    world: World, rows: dict[str, dict[str, Array]], source: str, day: int, column: str = ""
) -> Array:
    """Per customer active at `day`'s midnight: the 30-day count (or `column`'s sum) of
    their non-bot, non-test rows known at that midnight."""
    r, cut = rows[source], day * DAY_US
    keep = (r["at"] >= cut - 30 * DAY_US) & (r["at"] < cut) & (r["ingested"] <= cut)
    if "is_bot" in r:
        keep &= ~r["is_bot"]
    if "is_test" in r:
        keep &= ~r["is_test"]
    weights = np.nan_to_num(r[column][keep]) if column else None
    totals = np.bincount(r["owner"][keep], weights=weights, minlength=len(world.owner_ids))
    return totals[np.flatnonzero(world._active(day))]


@pytest.fixture(scope="module")
def calm() -> tuple[World, dict[str, dict[str, Array]]]:
    """4,000 customers over 150 days without shock or season, its rows kept."""
    world = World(WorldConfig(customers=4_000, days=150, seed=7, shocks=(), seasons=())).run()
    return world, world.take_rows()


def test_monthly_churn_is_about_two_percent_and_signups_keep_the_base_flat(calm) -> None:
    world, _ = calm
    monthly = [world.monthly_churn_pct(start, start + 30) for start in range(0, 150, 30)]
    overall = world.monthly_churn_pct(0, 150)
    print(f"monthly churn per 30 days {monthly}, over 150 days {overall:.2f} %")
    assert 1.5 <= overall <= 2.6
    assert all(1.0 <= value <= 3.5 for value in monthly)
    active = [world.retention(day, day).customers_at_start for day in (0, 149)]
    assert active[1] == pytest.approx(active[0], rel=0.05)


def test_monthly_churn_counts_churns_per_30_days_over_the_mean_active_base(calm) -> None:
    world, _ = calm
    churned = sum(row["churned_at"] is not None for row in world.customers().to_pylist())
    active = np.mean([world.retention(day, day).customers_at_start for day in range(150)])
    assert world.monthly_churn_pct(0, 150) == pytest.approx(
        100 * churned / active * 30 / 150, abs=1e-3
    )
    with pytest.raises(InvalidInput, match="end_day"):
        world.monthly_churn_pct(10, 10)
    with pytest.raises(InvalidInput, match="end_day"):
        world.monthly_churn_pct(0, 151)


def test_the_calm_churn_is_learnable_from_the_30_day_features(calm) -> None:
    world, rows = calm
    features, labels = [], []
    for day in range(30, 136, 7):
        purchases = recorded_30d(world, rows, "purchases", day)
        logins = recorded_30d(world, rows, "logins", day)
        activity = 0.7 * np.minimum(purchases / 10, 1) + 0.3 * np.minimum(logins / 20, 1)
        spend = recorded_30d(world, rows, "purchases", day, "amount")
        tickets = recorded_30d(world, rows, "support_tickets", day)
        features.append(np.log1p(np.c_[activity, spend, tickets]))
        active = np.flatnonzero(world._active(day))
        labels.append((world._churn_day[active] <= day + 14).astype(int))
    x, y = np.vstack(features), np.concatenate(labels)
    scores = cross_val_predict(LogisticRegression(), x, y, cv=5, method="predict_proba")[:, 1]
    auc = roc_auc_score(y, scores)
    print(f"14-day churn: {y.mean():.2%} of {len(y)} rows, AUC {auc:.3f}")
    assert 0.75 <= auc <= 0.88


def test_the_default_schedule_spaces_six_shocks_after_three_calm_months() -> None:
    for days in (300, 365):
        shocks = default_shocks(days)
        starts = [shock.day for shock in shocks]
        assert [shock.kind for shock in shocks] == [
            "source_outage",
            "pandemic",
            "null_values",
            "new_segment",
            "price_change",
            "regulation",
        ]
        assert starts == sorted(starts) and starts[-1] < days
        assert min(b - a for a, b in pairwise(starts)) >= 20
        (peak,) = default_seasons(days)
        assert peak.day >= 28 and peak.day + peak.duration_days <= starts[0] - 14
    assert default_shocks(365)[0].day >= 90


def test_ground_truth_gives_each_shock_its_relation_duration_floor_and_end() -> None:
    world = World(WorldConfig(customers=200, days=365, seed=1))
    world.step(120)
    truth = world.ground_truth()
    assert truth["end"] == "2020-01-01T00:00:00"
    assert truth["monthly_churn_pct"] == world.monthly_churn_pct(0, 110)
    found = {shock["kind"]: shock for shock in truth["shocks"]}
    for kind in ("pandemic", "new_segment", "price_change", "regulation"):  # inputs vs churn
        assert found[kind]["changes_relation"] is True
        assert found[kind]["floor_days"] == 14 and found[kind]["end"] is None
    outage = found["source_outage"]
    assert (outage["changes_relation"], outage["duration_days"], outage["floor_days"]) == (
        False,
        3,
        3,
    )
    assert outage["starts_at"] == "2019-04-21T00:00:00" and outage["end"] == "2019-04-24T00:00:00"
    assert found["null_values"]["floor_days"] == found["null_values"]["duration_days"] == 4
    assert all({"kind", "day", "description"} <= set(shock) for shock in truth["shocks"])
    (season,) = truth["seasons"]
    assert season["kind"] == "seasonal_peak" and season["duration_days"] == 21
    assert World(WorldConfig(customers=50, days=10)).ground_truth()["monthly_churn_pct"] is None


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SourceOutage(day=3, duration_days=None), "shocks.source_outage.duration_days"),
        (lambda: NullValues(day=3, duration_days=0), "shocks.null_values.duration_days"),
        (lambda: PriceChange(day=3, plan="gold"), "shocks.price_change.plan"),
        (lambda: PriceChange(day=3, existing_move=2.0), "shocks.price_change.existing_move"),
        (lambda: SeasonalPeak(day=3, duration_days=0), "seasons.duration_days"),
        (lambda: WorldConfig(days=30, seasons=(SeasonalPeak(day=40),)), "seasons.day"),
    ],
)
def test_bad_shocks_and_seasons_are_refused_with_the_field_named(build, field) -> None:
    with pytest.raises(InvalidInput) as error:
        build()
    assert error.value.field == field


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, duckdb.DuckDBPyConnection]:
    """1,000 customers over 60 days: tickets out on days 20–22, NULL amounts on 30–33."""
    shocks = (
        SourceOutage(day=20, source="support_tickets", duration_days=3),
        NullValues(day=30, duration_days=4),
    )
    world = World(WorldConfig(customers=1_000, days=60, seed=4, shocks=shocks, seasons=()))
    folder = tmp_path_factory.mktemp("broken")
    while not world.finished:
        world.step(5)
        write_world(world, folder)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for name in ("support_tickets", "purchases"):
        connection.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{folder}/data/{name}/*.parquet')"
        )
    return world, connection


def test_an_outage_ingests_nothing_then_its_rows_arrive_late(broken) -> None:
    world, connection = broken
    start, end = world.moment(20), world.moment(23)
    during, held, backfill_at, before = connection.execute(
        "SELECT count(*) FILTER (WHERE ingested_at >= $1 AND ingested_at < $2), "
        "count(*) FILTER (WHERE opened_at >= $1 AND opened_at < $2), "
        "max(ingested_at) FILTER (WHERE opened_at >= $1 AND opened_at < $2 "
        "AND ingested_at < $2 + INTERVAL 1 DAY), "
        "count(*) FILTER (WHERE opened_at >= $1 - INTERVAL 3 DAY AND opened_at < $1) "
        "FROM support_tickets",
        [start, end],
    ).fetchone()
    print(
        f"tickets opened during the outage {held} (3 days before: {before}), last backfill at "
        f"{backfill_at}"
    )
    assert during == 0
    assert held == pytest.approx(before, rel=0.35)
    assert end <= backfill_at < world.moment(23 + 1 / 24)


def test_a_pipeline_writing_nulls_leaves_real_nulls_in_the_files_for_its_days(broken) -> None:
    world, connection = broken
    nulls, inside, outside_nulls = connection.execute(
        "SELECT count(*) FILTER (WHERE amount IS NULL), "
        "count(*) FILTER (WHERE ingested_at >= $1 AND ingested_at < $2), "
        "count(*) FILTER (WHERE amount IS NULL AND (ingested_at < $1 OR ingested_at >= $2)) "
        "FROM purchases",
        [world.moment(30), world.moment(34)],
    ).fetchone()
    assert nulls == inside > 0
    assert outside_nulls == 0
    assert connection.execute("SELECT count(*) FROM purchases WHERE isnan(amount)").fetchone() == (
        0,
    )


def test_a_price_change_moves_existing_customers_down_and_new_signups_to_cheaper_plans() -> None:
    change = PriceChange(day=20, plan="pro", to_plan="basic", existing_move=0.2, price_factor=1.25)
    world = World(WorldConfig(customers=3_000, days=40, seed=6, shocks=(change,), seasons=()))
    world.step(19)
    before = {row["customer_id"]: row for row in world.customers().to_pylist()}
    world.step(1)  # the new prices hold from the midnight that starts day 20
    after = {row["customer_id"]: row for row in world.customers().to_pylist()}
    pro_active = [c for c, row in before.items() if row["plan"] == "pro" and not row["churned_at"]]
    moved = [c for c in pro_active if after[c]["plan"] == "basic"]
    stayed = [c for c in pro_active if after[c]["plan"] == "pro"]
    print(f"{len(moved)} of {len(pro_active)} pro customers moved to basic")
    assert len(moved) / len(pro_active) == pytest.approx(0.2, abs=0.04)
    assert all(after[c]["price"] < before[c]["price"] for c in moved)
    assert all(after[c]["price"] == pytest.approx(1.25 * before[c]["price"]) for c in stayed)
    others = [c for c in before if c not in pro_active]
    assert all(after[c]["plan"] == before[c]["plan"] for c in others)

    def population(repriced: PriceChange | None):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(3)
        return draw_population(
            rng, 200_000, 100, history_days=30, arrival=None, removed=None, repriced=repriced
        )

    plain, repriced = population(None), population(PriceChange(day=50))
    later = plain.signup >= 50
    pro = later & (plain.plan == PLANS.index("pro"))
    assert np.array_equal(plain.plan[~later], repriced.plan[~later])
    moved_share = np.mean(repriced.plan[pro] == PLANS.index("basic"))
    assert moved_share == pytest.approx(0.4, abs=0.08)


def test_a_seasonal_peak_raises_logins_below_the_psi_warning_and_keeps_the_relation() -> None:
    config = WorldConfig(customers=4_000, days=100, seed=7, shocks=(), seasons=())
    peaked = World(
        WorldConfig(customers=4_000, days=100, seed=7, shocks=(), seasons=(SeasonalPeak(day=60),))
    ).run()
    plain = World(config).run()
    rows = peaked.take_rows()
    shifts, ratios = [], []
    for calm_day, peak_day in zip(range(50, 57), range(75, 82), strict=True):
        reference = recorded_30d(peaked, rows, "logins", calm_day)
        current = recorded_30d(peaked, rows, "logins", peak_day)[::7]
        edges = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))
        counts = [
            np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
            for x in (reference, current)
        ]
        shifts.append(psi(counts[0].tolist(), counts[1].tolist()))
        ratios.append(current.mean() / reference.mean())
    print(
        f"30-day logins x{np.mean(ratios):.2f}; PSI (a day's 1/7 of the base) "
        f"mean {np.mean(shifts):.3f}, max {max(shifts):.3f}"
    )
    assert 1.08 <= np.mean(ratios) <= 1.25
    assert max(shifts) < 0.1
    assert plain.monthly_churn_pct(0, 60) == peaked.monthly_churn_pct(0, 60)
    assert peaked.monthly_churn_pct(60, 81) == pytest.approx(
        plain.monthly_churn_pct(60, 81), rel=0.35
    )
    assert peaked.ground_truth()["shocks"] == []


def test_under_every_shock_a_treatment_changes_only_the_treated_customers() -> None:
    config = WorldConfig(customers=1_500, days=100, seed=9)
    control, treated_world = World(config), World(config)
    treated = set(control.active_customers()[::2])
    control.step(100)
    treated_world.step(100, treated=treated)
    before, after = control.customers().to_pylist(), treated_world.customers().to_pylist()
    assert [b for b in before if b["customer_id"] not in treated] == [
        a for a in after if a["customer_id"] not in treated
    ]
    control_rows, treated_rows = control.take_rows(), treated_world.take_rows()
    others = np.array([owner not in treated for owner in control.owner_ids])
    for source, columns in control_rows.items():
        keep_c, keep_t = others[columns["owner"]], others[treated_rows[source]["owner"]]
        for column, values in columns.items():
            assert np.array_equal(
                values[keep_c], treated_rows[source][column][keep_t], equal_nan=True
            ), (source, column)
