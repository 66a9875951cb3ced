"""Sealing the prediction log on every metadata database: the rows of ended UTC days become
registered segments read exactly as the rows were, outcomes still join them, a second seal
moves nothing, and a seal refused at any step leaves the rows read once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import func, select, text

from lucid.errors import InvalidInput
from lucid.monitoring import predictions
from lucid.monitoring.prediction_seal import seal_predictions
from lucid.monitoring.prediction_tables import rows_table
from lucid.monitoring.windows import infer_part_kinds, parts_table
from lucid.storage.database import Database
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.tables import prediction_log, prediction_segments

DAY = datetime(2026, 11, 2, tzinfo=UTC)
LATER = DAY + timedelta(days=3)
START, END = "2026-11-01T00:00:00.000000Z", "2026-11-06T00:00:00.000000Z"


def _rows(n: int, prefix: str, *, day: datetime = DAY) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "entity": f"{prefix}{i % 7}",
            "served_at": day + timedelta(minutes=35 * i, microseconds=i),
            "features": {
                "tenure": i * 1.5,
                "plan": "pro" if i % 2 else "basic",
                "n": i,
                "vip": i % 3 == 0,
                "note": None if i % 4 else f"n{i}",
                "mixed": i if i % 5 else f"x{i}",  # numbers and text: text in a segment
            },
            "score": (i % 10) / 10,
        }
        if i % 2:
            row["id"] = f"{prefix}-p{i}"
        if i % 3:
            row["arm"] = "control" if i % 2 else "challenger"
        rows.append(row)
    return rows


def _log(db: Database, root: Path) -> SqlPredictionLog:
    return SqlPredictionLog(db, root, segment_rows=1_000)  # the batches here stay rows


def _window(log: SqlPredictionLog, model: str) -> tuple[list[str], dict[str, str], Any]:
    """The window's rows (as text, sorted), column types and feature kinds."""
    parts = log.window_parts(model, START, END, None, labels=True)
    kinds = infer_part_kinds(parts)
    table = parts_table(parts, kinds, with_label=True)
    types = {f.name: str(f.type) for f in table.schema}
    rows = sorted(map(repr, zip(*table.to_pydict().values(), strict=True)))
    return rows, types, kinds


def _count(db: Database, table: Any) -> int:
    with db.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_sealed_window_reads_as_its_rows_did(db: Database, tmp_path: Path) -> None:
    log = _log(db, tmp_path / "log")
    ids = predictions.log_predictions(log, "churn", 1, _rows(40, "a"))
    ids += predictions.log_predictions(log, "churn", 2, _rows(30, "b", day=DAY + timedelta(1)))
    observed = DAY + timedelta(days=2)
    predictions.log_outcomes(
        log,
        "churn",
        [
            {"prediction_id": ids[3], "label": 1, "observed_at": observed},
            {"entity": "b2", "label": 0, "observed_at": observed},
        ],
        now=observed,
    )
    before = _window(log, "churn")
    looked_up = (
        log.predictions_by_id("churn", ids),
        log.arms_of("churn", ids),
        log.latest_version("churn", START, END),
        log.counts("churn"),
    )

    report = seal_predictions(log, now=LATER)

    assert (report.rows, report.segments) == (70, 2)
    assert [(d["day"], d["rows"]) for d in report.days] == [("2026-11-02", 40), ("2026-11-03", 30)]
    assert _count(db, prediction_log) == 0 and _count(db, prediction_segments) == 2
    assert _window(log, "churn") == before  # values, ids' labels, arms, types
    assert (
        log.predictions_by_id("churn", ids),
        log.arms_of("churn", ids),
        log.latest_version("churn", START, END),
        log.counts("churn"),
    ) == looked_up
    # Outcomes still join sealed predictions, by id and by entity.
    report_after = predictions.log_outcomes(
        log,
        "churn",
        [
            {"prediction_id": ids[5], "label": 1, "observed_at": observed},
            {"entity": "a4", "label": 0, "observed_at": observed},
            {"prediction_id": ids[3], "label": 1, "observed_at": observed},
        ],
        now=observed,
    )
    assert (report_after.logged, report_after.already_logged) == (2, 1)
    latest_a4 = max(
        (served, i) for i, served in looked_up[0].items() if looked_up[1][i][0] == "a4"
    )[1]
    assert log.outcomes_of([ids[5], latest_a4]) == {ids[5]: 1, latest_a4: 0}
    assert log.segments is not None and log.segments.altered() == []
    # `lucid events verify` rehashes sealed segments as it does batch segments.
    [first, *_] = sorted((tmp_path / "log").rglob("*.parquet"))
    first.write_bytes(first.read_bytes()[:-1] + b"\0")
    assert log.segments.altered() == [str(first.relative_to(tmp_path / "log"))]


def test_a_second_seal_moves_nothing_and_today_stays_rows(db: Database, tmp_path: Path) -> None:
    log = _log(db, tmp_path / "log")
    today = datetime(2026, 11, 5, 9, tzinfo=UTC)
    predictions.log_predictions(log, "churn", 1, _rows(6, "y", day=today - timedelta(days=1)))
    predictions.log_predictions(log, "churn", 1, _rows(5, "t", day=today - timedelta(hours=9)))
    predictions.log_predictions(log, "upsell", 1, _rows(4, "u", day=today - timedelta(days=2)))

    assert seal_predictions(log, now=today, model="upsell").rows == 4
    assert seal_predictions(log, now=today, before="2026-11-04").rows == 0  # yesterday stays
    assert seal_predictions(log, now=today).rows == 6
    assert seal_predictions(log, now=today).to_dict() == {
        "before": "2026-11-05",
        "rows": 0,
        "segments": 0,
        "days": [],
        "outcomes": 0,
        "outcome_segments": 0,
        "outcome_days": [],
        "served": 0,
        "served_segments": 0,
        "served_days": [],
    }
    assert _count(db, prediction_log) == 5  # today's rows: the day has not ended
    assert _count(db, prediction_segments) == 2
    assert log.counts("churn") == (11, 0)

    with pytest.raises(InvalidInput, match=r"before: must be a UTC day not after today"):
        seal_predictions(log, now=today, before="2026-11-06")
    with pytest.raises(InvalidInput, match=r"before: must be a UTC day YYYY-MM-DD, not 'soon'"):
        seal_predictions(log, now=today, before="soon")
    with pytest.raises(InvalidInput, match=r"^model: ' ' must be 1-100 lower-case"):
        seal_predictions(log, now=today, model=" ")
    assert _count(db, prediction_log) == 5


def test_a_seal_cut_short_leaves_the_rows_read_once(db: Database, tmp_path: Path) -> None:
    log = _log(db, tmp_path / "log")
    predictions.log_predictions(log, "churn", 1, _rows(20, "a"))
    before = _window(log, "churn")
    rows = log.sealable_rows("churn", "2026-11-02", "2026-11-03T00:00:00.000000Z", 100)
    assert log.segments is not None

    # A crash between the file's rename and its registration: an orphan file, never read.
    log.segments.stage("churn", rows_table(rows), "2026-11-04T00:00:00.000000Z")
    assert _window(log, "churn") == before

    # The registration refused, then the rows' deletion refused: neither is committed.
    for table in ("prediction_segments", "prediction_log"):
        with _refusing(db, table), pytest.raises(Exception, match="refused"):
            seal_predictions(log, now=LATER)
        assert _count(db, prediction_segments) == 0 and _count(db, prediction_log) == 20
        assert _window(log, "churn") == before
    assert len(list((tmp_path / "log").rglob("*.parquet"))) == 1  # only the orphan

    # Another seal took the rows first: the same rows sealed again move nothing.
    assert log.seal("churn", rows_table(rows)) == 20
    assert log.seal("churn", rows_table(rows)) == 0
    assert _count(db, prediction_segments) == 1 and _count(db, prediction_log) == 0
    assert _window(log, "churn") == before


class _refusing:
    """A trigger refusing every INSERT into a segments table (`prediction_segments`,
    `outcome_segments`) or DELETE from a log (`prediction_log`, `outcome_log`): a failure
    injected into the seal's own transaction."""

    def __init__(self, db: Database, table: str) -> None:
        self.db, self.table = db, table
        self.action = "INSERT" if table.endswith("_segments") else "DELETE"

    def __enter__(self) -> None:
        with self.db.transaction() as connection:
            if self.db.is_sqlite:
                connection.execute(
                    text(
                        f"CREATE TRIGGER refuse BEFORE {self.action} ON {self.table} "
                        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    )
                )
            else:
                connection.execute(
                    text(
                        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                        "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                    )
                )
                connection.execute(
                    text(
                        f"CREATE TRIGGER refuse BEFORE {self.action} ON {self.table} "
                        "FOR EACH ROW EXECUTE FUNCTION refuse()"
                    )
                )

    def __exit__(self, *_: object) -> None:
        with self.db.transaction() as connection:
            if self.db.is_sqlite:
                connection.execute(text("DROP TRIGGER refuse"))
            else:
                connection.execute(text(f"DROP TRIGGER refuse ON {self.table}"))
                connection.execute(text("DROP FUNCTION refuse()"))


def test_a_seal_moves_the_rows_a_shadow_comparison_reads(db: Database, tmp_path: Path) -> None:
    from lucid.storage.shadow import SqlShadowRepository
    from lucid.storage.tables import shadow_comparisons, shadow_scores

    log = _log(db, tmp_path / "log")
    ids = predictions.log_predictions(log, "churn", 1, _rows(6, "a"))
    predictions.log_predictions(log, "upsell", 1, _rows(3, "u"))
    observed = DAY + timedelta(days=1)
    outcomes = [{"prediction_id": i, "label": 1, "observed_at": observed} for i in ids[:2]]
    predictions.log_outcomes(log, "churn", outcomes, now=observed)
    comparison = {
        "model": "churn",
        "control_version": 1,
        "challenger_version": 2,
        "design": "{}",
        "created_at": "2026-11-01T00:00:00.000000Z",
        "created_by": "test",
    }
    with db.transaction() as connection:
        connection.execute(
            shadow_comparisons.insert(), [comparison | {"id": "s1", "status": "running"}]
        )
        connection.execute(
            shadow_scores.insert(),
            [{"comparison_id": "s1", "prediction_id": i, "score": 0.5} for i in ids[:3]],
        )

    def pairs() -> Any:
        with db.transaction() as connection:
            return SqlShadowRepository(connection, tmp_path / "log").pairs("s1")

    before = pairs()
    report = seal_predictions(log, now=LATER)
    assert (report.rows, report.outcomes) == (6 + 3, 2)  # scored, of a running comparison
    assert _count(db, prediction_log) == 0
    assert pairs() == before and (before.logged, len(before.labels)) == (3, 2)


def test_shadow_pairs_read_racing_seals_see_every_pair_once(db: Database, tmp_path: Path) -> None:
    from lucid.storage.shadow import SqlShadowRepository
    from lucid.storage.tables import shadow_comparisons, shadow_scores

    log = _log(db, tmp_path / "log")
    ids: list[str] = []
    for day in range(12):
        served = DAY + timedelta(day)
        batch = predictions.log_predictions(log, "churn", 1, _rows(20, f"d{day}-", day=served))
        outcomes = [
            {"prediction_id": i, "label": n % 2, "observed_at": served + timedelta(hours=23)}
            for n, i in enumerate(batch)
        ]
        predictions.log_outcomes(log, "churn", outcomes, now=served + timedelta(hours=23))
        ids += batch
    with db.transaction() as connection:
        connection.execute(
            shadow_comparisons.insert(),
            [
                {
                    "id": "s1",
                    "model": "churn",
                    "control_version": 1,
                    "challenger_version": 2,
                    "design": "{}",
                    "status": "running",
                    "created_at": "2026-11-01T00:00:00.000000Z",
                    "created_by": "test",
                }
            ],
        )
        connection.execute(
            shadow_scores.insert(),
            [{"comparison_id": "s1", "prediction_id": i, "score": 0.5} for i in ids],
        )

    def pairs() -> Any:
        with db.transaction() as connection:  # as a unit of work reads them
            return SqlShadowRepository(connection, tmp_path / "log").pairs("s1")

    expected = pairs()
    done = threading.Event()

    def seal_day_by_day() -> None:
        try:
            for day in range(1, 13):
                seal_predictions(
                    log, now=LATER + timedelta(30), before=(DAY + timedelta(day)).date()
                )
        finally:
            done.set()

    sealer = threading.Thread(target=seal_day_by_day)
    sealer.start()
    seen = []
    while not done.is_set() or not seen:
        seen.append(pairs() == expected)
    sealer.join()
    assert _count(db, prediction_log) == 0 and _count(db, prediction_segments) == 12
    assert expected.logged == len(expected.labels) == 240 and all(seen), len(seen)


def test_sealed_segments_have_a_batch_segments_columns(db: Database, tmp_path: Path) -> None:
    log = _log(db, tmp_path / "log")
    predictions.log_predictions(log, "churn", "v1", _rows(8, "a"))
    seal_predictions(log, now=LATER)
    [segment] = list((tmp_path / "log").rglob("*.parquet"))
    import pyarrow.parquet as pq

    schema = pq.read_schema(segment)
    assert {f.name: str(f.type) for f in schema} == {
        "id": "string",
        "version": "string",
        "entity": "string",
        "served_at": "timestamp[us]",
        "score": "double",
        "arm": "string",
        "feature.tenure": "double",
        "feature.plan": "string",
        "feature.n": "int64",
        "feature.vip": "bool",
        "feature.note": "string",
        "feature.mixed": "string",
    }
    assert isinstance(pq.read_table(segment), pa.Table)
    assert segment.parent.name == "day=2026-11-02" and segment.parent.parent.name == "model=churn"


def test_reads_racing_seals_see_every_prediction_once(db: Database, tmp_path: Path) -> None:
    log = _log(db, tmp_path / "log")
    for day in range(12):
        predictions.log_predictions(
            log, "churn", 1, _rows(20, f"d{day}-", day=DAY + timedelta(day))
        )
    done = threading.Event()

    def seal_day_by_day() -> None:
        try:
            for day in range(1, 13):
                seal_predictions(
                    log, now=LATER + timedelta(30), before=(DAY + timedelta(day)).date()
                )
        finally:
            done.set()

    sealer = threading.Thread(target=seal_day_by_day)
    sealer.start()
    seen = []
    while not done.is_set() or not seen:
        parts = log.window_parts("churn", START, "2026-11-20T00:00:00.000000Z", None, labels=False)
        seen.append((log.counts("churn")[0], sum(part.num_rows for part in parts)))
    sealer.join()
    assert _count(db, prediction_log) == 0 and _count(db, prediction_segments) == 12
    assert set(seen) == {(240, 240)}, len(seen)
