"""Sealing served feature values on every metadata database: the values of ended UTC days
become registered served segments, read exactly as the rows were (skew report, kept skew
sums, counts, positions); ids never go back; a second seal moves nothing; a refused seal
loses nothing; `lucid events verify` rehashes served segments."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lucid.bootstrap import utc_now
from lucid.engines.compiler import SqlFeatureCompiler
from lucid.engines.duckdb import DuckDBEngine
from lucid.features.store import FeatureStore
from lucid.monitoring.prediction_seal import seal_predictions
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.online_store import SqliteOnlineStore, scratch_online_store
from lucid.storage.prediction_log import SqlPredictionJournal, SqlPredictionLog
from lucid.storage.served_segments import ServedSegments
from lucid.storage.tables import served_features, served_segments
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_feature_governance import approve_all
from tests.contract.test_feature_serving import AT, V1, with_ttl
from tests.contract.test_prediction_seal import _refusing
from tests.unit.test_feature_sql import write_events

ENTITIES = ["alice", "bob", "carol", "nobody"]
DAYS = [AT - timedelta(days=2, hours=3), AT - timedelta(days=1), AT - timedelta(hours=1)]
LATER = AT + timedelta(days=2)


class World:
    """A feature store whose units of work read served segments under `root`, and the
    prediction log that seals them."""

    def __init__(self, db: Database, event_log: SqlEventLog, tmp_path: Path) -> None:
        self.db = db
        self.root = tmp_path / "prediction_log"
        self.uows = SqlUnitsOfWork(db, event_log, self.root)
        self.log = SqlPredictionLog(db, self.root)
        self.engine = DuckDBEngine(tmp_path)
        self.store = FeatureStore(
            self.uows,
            lambda: self.engine,
            lambda: SqliteOnlineStore(tmp_path / "online.db"),
            compiler=SqlFeatureCompiler(scratch_online_store),
            clock=utc_now,
        )

    def serve(self, days: list[Any] = DAYS) -> None:
        for i, day in enumerate(days):
            self.store.get_online_features(ENTITIES[i % 2 :], [V1], log=True, now=day)

    def reads(self) -> dict[str, Any]:
        """Every read of served values, as the feature repository answers it."""
        report = self.store.skew_report().to_dict()
        with self.uows.read() as uow:
            features = uow.features
            position = features.served_position()
            return {
                "report": report,
                "since": self.store.skew_report(since=DAYS[1]).to_dict(),
                "all": features.served(),
                "since_values": features.served(since=DAYS[1], features=[V1]),
                "none": features.served(features=["other@1.0.0"]),
                "ranges": [
                    features.served(after=after, until=until)
                    for after, until in ((0, 3), (3, 9), (5, position), (position, None))
                ],
                "position": position,
                "watermark": features.served_watermark(),
                "count": features.served_count([V1]),
                "last": features.last_served_at([V1]),
            }

    def count(self, table: Any) -> int:
        with self.db.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def world(db: Database, event_log: SqlEventLog, tmp_path: Path) -> Iterator[World]:
    write_events(tmp_path)
    built = World(db, event_log, tmp_path)
    built.store.apply(with_ttl(), actor="dana", rationale="seed")
    approve_all(built.store, V1)
    built.store.materialize([V1], at=AT - timedelta(days=1))
    yield built
    built.engine.close()


def test_sealed_values_read_as_their_rows_did(world: World) -> None:
    world.serve()
    before = world.reads()
    assert before["count"] == 11 and before["position"] == 11

    report = seal_predictions(world.log, now=LATER)

    # Every value but the last (the largest id stays a row until a later one is served).
    assert (report.served, report.served_segments) == (10, 3)
    assert [(d["day"], d["rows"]) for d in report.served_days] == [
        (DAYS[0].date().isoformat(), 4),
        (DAYS[1].date().isoformat(), 3),
        (DAYS[2].date().isoformat(), 3),
    ]
    assert world.count(served_features) == 1 and world.count(served_segments) == 3
    assert world.reads() == before
    # A second seal moves nothing.
    again = seal_predictions(world.log, now=LATER)
    assert again.to_dict()["served"] == 0 and again.served_days == []
    assert world.count(served_segments) == 3
    # Values served since are read with the sealed ones, in id order.
    world.serve([LATER])
    mixed = world.reads()
    assert mixed["count"] == 15 and mixed["all"][:11] == before["all"]
    assert seal_predictions(world.log, now=LATER + timedelta(days=1)).served == 4
    assert world.reads() == mixed


def test_a_seal_of_one_model_and_today_leave_served_values_as_rows(world: World) -> None:
    world.serve()
    assert seal_predictions(world.log, now=LATER, model="churn").served == 0
    assert seal_predictions(world.log, now=DAYS[2]).served == 7  # today's 4 stay rows
    assert world.count(served_features) == 4


def test_kept_skew_sums_stay_right_across_a_seal(world: World) -> None:
    world.serve(DAYS[:2])
    kept = world.store.overall_skew()
    seal_predictions(world.log, now=LATER)
    assert world.store.overall_skew() == kept  # read from the kept sums, position unmoved
    world.serve(DAYS[2:])  # rows again, positions after every sealed one
    added = world.store.overall_skew()
    assert added.served == 11
    assert added == world.store.overall_skew(recompute=True) == world.store.skew_report().overall
    seal_predictions(world.log, now=LATER)
    assert world.store.overall_skew() == added == world.store.overall_skew(recompute=True)


def test_ids_never_go_back_after_a_seal(world: World) -> None:
    world.serve()
    seal_predictions(world.log, now=LATER)
    with world.db.transaction() as connection:
        sealed = connection.execute(select(func.max(served_segments.c.last_id))).scalar_one()
        kept = connection.execute(select(served_features.c.id)).scalars().all()
    journal = SqlPredictionJournal(world.db, [])
    served = {
        "served_at": "2026-12-01T00:00:00.000000Z",
        "entity": "alice",
        "feature": V1,
        "value": "0.5",
        "as_of": None,
        "status": "fresh",
    }
    journal.write([served], [])  # the serving hot path's own INSERT
    world.serve([LATER])
    with world.db.transaction() as connection:
        new = set(connection.execute(select(served_features.c.id)).scalars()) - set(kept)
    assert len(new) == 5 and min(new) > sealed  # each above every sealed id
    assert (sealed, kept, sorted(new)) == (10, [11], list(range(12, 17)))  # the last stays
    with world.uows.read() as uow:
        assert uow.features.served_position() == 16
        assert len(uow.features.served(after=11)) == 5


def test_a_refused_seal_loses_nothing(world: World) -> None:
    world.serve()
    before = world.reads()
    # A crash between the file's rename and its registration: an orphan file, never read.
    day = DAYS[0].date().isoformat()
    rows = world.log.sealable_served(day, "2026-12-31T00:00:00.000000Z", 100)
    assert world.log.served is not None
    world.log.served.stage(_served_table(rows), "2026-12-01T00:00:00.000000Z")
    assert world.reads() == before
    # The registration refused, then the rows' deletion refused: neither is committed.
    for table in ("served_segments", "served_features"):
        with _refusing(world.db, table), pytest.raises(Exception, match="refused"):
            seal_predictions(world.log, now=LATER)
        assert world.count(served_segments) == 0 and world.count(served_features) == 11
        assert world.reads() == before
    assert len(list(world.root.rglob("*.parquet"))) == 1  # only the orphan
    # Another seal took the rows first: the same rows sealed again move nothing.
    assert world.log.seal_served(rows) == 4
    assert world.log.seal_served(rows) == 0
    assert world.count(served_segments) == 1 and world.count(served_features) == 7
    assert seal_predictions(world.log, now=LATER).served == 6  # all but the last value
    assert world.reads() == before


def _served_table(rows: list[dict[str, Any]]) -> Any:
    from lucid.storage.served_segments import served_table

    return served_table(rows)


def test_verify_rehashes_served_segments(world: World) -> None:
    world.serve()
    seal_predictions(world.log, now=LATER)
    segments = ServedSegments(world.db, world.root)
    assert segments.altered() == []
    [first, *_] = sorted(world.root.rglob("*.parquet"))
    first.write_bytes(first.read_bytes()[:-1] + b"\0")
    assert segments.altered() == [str(first.relative_to(world.root))]


def test_reads_racing_seals_see_every_value_once(world: World) -> None:
    days = [AT - timedelta(days=12 - day) for day in range(12)]
    world.serve(days)
    with world.uows.read() as uow:
        every = uow.features.served()
    done = threading.Event()

    def seal_day_by_day() -> None:
        try:
            for day in [*days[1:], LATER]:
                seal_predictions(world.log, now=LATER, before=day.date())
        finally:
            done.set()

    sealer = threading.Thread(target=seal_day_by_day)
    sealer.start()
    seen = []
    while not done.is_set() or not seen:
        with world.uows.read() as uow:
            seen.append(uow.features.served() == every and uow.features.served_count([V1]))
    sealer.join()
    assert world.count(served_features) == 1 and world.count(served_segments) == 12
    assert set(seen) == {len(every)}, len(seen)
