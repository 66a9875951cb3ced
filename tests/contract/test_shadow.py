"""Shadow comparisons on SQLite and PostgreSQL, through the use cases.

churn@1 serves production and logs its predictions; churn@2, the challenger, scores the same
predictions in the shadow; outcomes arrive on the production predictions (the monitoring
path); concluding attaches predictive evidence produced by Lucid. Every refusal leaves the
shadow tables, the versions and the event log exactly as they were.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import func, select

from lucid.contracts.value import EvidenceKind, Origin
from lucid.errors import Conflict, InvalidInput, NotFound
from lucid.experiments.shadow.lab import ShadowComparisons
from lucid.monitoring import predictions
from lucid.monitoring.prediction_seal import seal_predictions
from lucid.registry.model_registry import ModelRegistry
from lucid.registry.produced import ProducedEvidence
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub
from lucid.storage.prediction_log import SqlPredictionJournal, SqlPredictionLog
from lucid.storage.tables import (
    model_versions,
    outcome_log,
    outcome_segments,
    prediction_log,
    prediction_segments,
    shadow_comparisons,
    shadow_scores,
)
from lucid.storage.unit_of_work import SqlUnitsOfWork
from tests.contract.test_registry import Clock, register, to_production

N = 400


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(
    db: Database, event_log: SqlEventLog, tmp_path: Path, hub_cache: Path, clock: Clock
) -> ModelRegistry:
    hub = HuggingFaceHub(offline=True, cache_dir=hub_cache)
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    return ModelRegistry(
        SqlUnitsOfWork(db, event_log), event_log, artifacts, hub, approvers=["bea"], clock=clock
    )


@pytest.fixture
def challenger(registry: ModelRegistry) -> int:
    """churn@1 serves production, churn@2 is the challenger."""
    register(registry)
    to_production(registry, 1)
    register(registry, offline_metrics={"auc": 0.84})
    registry.promote("churn", 2, "challenger", actor="ana", rationale="score in the shadow")
    return 2


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The prediction log's folder (its segments)."""
    return tmp_path / "log"


@pytest.fixture
def shadow(
    db: Database, event_log: SqlEventLog, registry: ModelRegistry, clock: Clock, root: Path
) -> Any:
    def no_rows(labels: Any, pins: Any) -> list[dict[str, Any]]:
        raise AssertionError("the live comparison never builds training rows")

    return ShadowComparisons(
        SqlUnitsOfWork(db, event_log, root), ProducedEvidence(registry), no_rows, clock=clock
    )


@pytest.fixture
def unchanged(db: Database, event_log: SqlEventLog) -> Callable[[], Any]:
    def snapshot() -> Any:
        with db.transaction() as conn:
            rows = [
                sorted(map(tuple, conn.execute(select(t))))
                for t in (shadow_comparisons, shadow_scores, model_versions)
            ]
        return rows, event_log.count()

    @contextmanager
    def check() -> Iterator[None]:
        before = snapshot()
        yield
        assert snapshot() == before

    return check


def served(
    db: Database,
    clock: Clock,
    version: int = 1,
    n: int = N,
    seed: int = 7,
    log: SqlPredictionLog | None = None,
) -> Any:
    """`n` production predictions of churn@`version` (logged in `log`, rows when None), their
    labels and a sharper score."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(size=n) - 0.5
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    blurred = 1 / (1 + np.exp(-(logit + 2.0 * rng.normal(size=n))))
    sharp = 1 / (1 + np.exp(-(logit + 0.2 * rng.normal(size=n))))
    moment = clock()
    ids = predictions.log_predictions(
        log or SqlPredictionLog(db),
        "churn",
        version,
        [
            {
                "entity": f"cust-{i:05d}",
                "served_at": moment,
                "features": {"x": float(i)},
                "score": float(blurred[i]),
            }
            for i in range(n)
        ],
    )
    return ids, labels, sharp, blurred


def mature(
    db: Database, clock: Clock, ids: list[str], labels: Any, log: SqlPredictionLog | None = None
) -> None:
    predictions.log_outcomes(
        log or SqlPredictionLog(db),
        "churn",
        [
            {"prediction_id": i, "label": int(label), "observed_at": clock() + timedelta(days=1)}
            for i, label in zip(ids, labels, strict=True)
        ],
        now=clock() + timedelta(days=1),
    )


def scored(shadow: ShadowComparisons, ids: list[str], scores: Any) -> int:
    """Log the challenger's `scores` of the predictions `ids`."""
    return shadow.log(
        "churn-v2-shadow",
        [{"prediction_id": i, "score": float(s)} for i, s in zip(ids, scores, strict=True)],
        actor="svc",
    )


def start(shadow: ShadowComparisons, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "model": "churn",
        "challenger": 2,
        "actor": "eve",
        "rationale": "does v2 rank better?",
        "metrics": ("auc", "log_loss", "precision_at_budget"),
        "minimum_pairs": 200,
        "budget_share": 0.1,
    }
    fields.update(changes)
    return shadow.start("churn-v2-shadow", **fields)


def test_shadow_scores_become_predictive_evidence_once_outcomes_matured(
    shadow: ShadowComparisons,
    registry: ModelRegistry,
    db: Database,
    clock: Clock,
    challenger: int,
    event_log: SqlEventLog,
    unchanged: Callable[[], Any],
) -> None:
    design = start(shadow)
    assert (design.control_version, design.challenger_version) == (1, 2)
    assert design.alpha == registry.get_version("churn", 2).impact.alpha
    ids, labels, sharp, blurred = served(db, clock)
    assert scored(shadow, ids, sharp) == len(ids)
    state = shadow.status("churn-v2-shadow")
    assert (state["pairs_logged"], state["pairs_matured"], state["can_conclude"]) == (N, 0, False)
    with unchanged(), pytest.raises(Conflict, match="have not matured"):
        shadow.conclude("churn-v2-shadow", actor="eve", rationale="too soon")

    mature(db, clock, ids[:150], labels[:150])  # fewer than the minimum pairs
    with unchanged(), pytest.raises(Conflict, match="150 pairs have a matured outcome"):
        shadow.conclude("churn-v2-shadow", actor="eve", rationale="still too soon")

    mature(db, clock, ids[150:], labels[150:])
    state = shadow.status("churn-v2-shadow")
    assert state["can_conclude"] and state["positives"] == int(labels.sum())
    assert state["estimates"]["auc"]["challenger"] == pytest.approx(roc_auc_score(labels, sharp))
    evidence = shadow.conclude("churn-v2-shadow", actor="eve", rationale="outcomes matured")
    assert [e.metric for e in evidence] == ["auc", "log_loss", "precision_at_budget"]
    auc = evidence[0]
    assert (auc.kind, auc.origin) == (EvidenceKind.PREDICTIVE, Origin.LUCID)
    assert (auc.control.name, auc.treatment.name) == ("churn@1", "churn@2")
    assert auc.control.value == pytest.approx(roc_auc_score(labels, blurred))
    assert auc.ci_low > 0 and auc.p_value < auc.alpha == design.alpha
    assert auc.data["pairs"] == N and auc.design["metrics"] == list(design.metrics)
    assert auc.produced_at is not None and len(auc.digest) == 64
    assert evidence[1].direction.value == "lower" and evidence[1].ci_high < 0
    attached = registry.get_version("churn", 2).evidence
    assert sorted(e.metric for e in attached) == ["auc", "log_loss", "precision_at_budget"]
    assert {(e.kind, e.origin) for e in attached} == {(EvidenceKind.PREDICTIVE, Origin.LUCID)}
    types = [e.type for e in event_log.read()]
    assert types.count("ShadowStarted") == types.count("ShadowConcluded") == 1
    assert shadow.status("churn-v2-shadow")["status"] == "concluded"
    with unchanged(), pytest.raises(Conflict, match="is concluded"):
        shadow.conclude("churn-v2-shadow", actor="eve", rationale="again")


def test_no_production_compares_with_no_model(
    shadow: ShadowComparisons, registry: ModelRegistry, db: Database, clock: Clock
) -> None:
    register(registry)
    registry.promote("churn", 1, "challenger", actor="ana", rationale="first model")
    design = start(shadow, challenger=1, metrics=("auc",))
    assert design.control_version is None and design.control_label == "no model"
    ids, labels, sharp, _ = served(db, clock, version=1)
    scored(shadow, ids, sharp)
    mature(db, clock, ids, labels)
    [auc] = shadow.conclude("churn-v2-shadow", actor="eve", rationale="matured")
    assert auc.control.name == "no model" and auc.control.value == 0.5
    assert auc.effect == pytest.approx(roc_auc_score(labels, sharp) - 0.5)
    assert math.isclose(auc.ci_low + auc.ci_high, 2 * auc.effect)


def test_bad_paths_store_nothing(
    shadow: ShadowComparisons,
    registry: ModelRegistry,
    db: Database,
    clock: Clock,
    challenger: int,
    unchanged: Callable[[], Any],
) -> None:
    with unchanged(), pytest.raises(Conflict, match="churn@1 is production"):
        start(shadow, challenger=1)
    with unchanged(), pytest.raises(InvalidInput, match="not a predictive metric"):
        start(shadow, metrics=("accuracy",))
    with unchanged(), pytest.raises(InvalidInput, match="minimum_pairs"):
        start(shadow, minimum_pairs=5)
    start(shadow)
    with unchanged(), pytest.raises(Conflict, match="already has the running shadow"):
        shadow.start("another", model="churn", challenger=2, actor="eve", rationale="twice")
    ids, *_ = served(db, clock)
    other, *_ = served(db, clock, version=2, n=3, seed=1)
    good = [{"prediction_id": ids[0], "score": 0.3}]
    with unchanged(), pytest.raises(InvalidInput, match="not logged predictions of churn@1"):
        shadow.log("churn-v2-shadow", [*good, {"prediction_id": "nope", "score": 0.1}], actor="a")
    with unchanged(), pytest.raises(InvalidInput, match="not logged predictions of churn@1"):
        shadow.log("churn-v2-shadow", [{"prediction_id": other[0], "score": 0.1}], actor="a")
    with unchanged(), pytest.raises(InvalidInput, match=r"rows\[0\].score"):
        shadow.log("churn-v2-shadow", [{"prediction_id": ids[0], "score": 1.5}], actor="a")
    with unchanged(), pytest.raises(InvalidInput, match="unknown column"):
        shadow.log("churn-v2-shadow", [{"prediction_id": ids[0], "scor": 0.5}], actor="a")
    shadow.log("churn-v2-shadow", good, actor="a")
    with unchanged(), pytest.raises(Conflict, match="already has a shadow score"):
        shadow.log("churn-v2-shadow", good, actor="a")
    with unchanged(), pytest.raises(NotFound):
        shadow.status("missing")


def test_serving_stores_a_shadow_score_only_while_its_comparison_runs(
    shadow: ShadowComparisons, db: Database, clock: Clock, challenger: int
) -> None:
    journal = SqlPredictionJournal(db, ["ShadowStarted"])
    ids, *_ = served(db, clock, n=3)

    def score(prediction: str) -> list[dict[str, Any]]:
        return [{"comparison_id": "churn-v2-shadow", "prediction_id": prediction, "score": 0.7}]

    journal.write([], [], score(ids[0]))  # no such comparison yet: dropped
    start(shadow)
    journal.write([], [], score(ids[1]))
    with db.transaction() as conn:
        stored = conn.execute(select(shadow_scores.c.prediction_id, shadow_scores.c.score)).all()
    assert [tuple(row) for row in stored] == [(ids[1], 0.7)]
    assert shadow.status("churn-v2-shadow")["pairs_logged"] == 1


def columnar(db: Database, root: Path, segment_rows: int) -> SqlPredictionLog:
    """The prediction log kept in `root`: batches of `segment_rows` or more are segments."""
    return SqlPredictionLog(db, root, segment_rows=segment_rows)


def count(db: Database, table: Any) -> int:
    with db.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def pairs(db: Database, event_log: SqlEventLog, root: Path) -> Any:
    with SqlUnitsOfWork(db, event_log, root).read() as uow:
        return uow.shadow.pairs("churn-v2-shadow")


def expected(ids: list[str], labels: Any, sharp: Any, blurred: Any) -> tuple[Any, ...]:
    """The pairs (labels, challenger, control) of `ids`, in prediction id order."""
    order = sorted(range(len(ids)), key=lambda k: ids[k])
    return (
        [int(labels[k]) for k in order],
        [float(sharp[k]) for k in order],
        [float(blurred[k]) for k in order],
    )


def test_sealing_a_running_comparisons_predictions_and_outcomes_changes_no_pair(
    shadow: ShadowComparisons,
    db: Database,
    event_log: SqlEventLog,
    clock: Clock,
    challenger: int,
    root: Path,
) -> None:
    start(shadow)
    log = columnar(db, root, 10_000)  # every batch here is rows, as served
    first, first_labels, first_sharp, _ = served(db, clock, n=N // 2, log=log)
    clock.now += timedelta(days=1)
    second, second_labels, second_sharp, _ = served(db, clock, n=N // 2, seed=8, log=log)
    ids, labels = first + second, [*first_labels, *second_labels]
    scores = [*first_sharp, *second_sharp]
    scored(shadow, ids, scores)
    mature(db, clock, ids, labels, log=log)
    as_rows, status = pairs(db, event_log, root), shadow.status("churn-v2-shadow")
    assert as_rows.logged == len(as_rows.labels) == N and status["can_conclude"]

    day = clock.now + timedelta(days=1)
    report = seal_predictions(log, now=day, before=day.date() - timedelta(days=1))
    assert (report.rows, report.outcomes) == (N // 2, 0)  # the first day only: both stores
    assert pairs(db, event_log, root) == as_rows
    assert shadow.status("churn-v2-shadow") == status

    report = seal_predictions(log, now=day + timedelta(days=1))
    assert (report.rows, report.outcomes) == (N // 2, N)
    assert count(db, prediction_log) == count(db, outcome_log) == 0
    assert pairs(db, event_log, root) == as_rows
    assert shadow.status("churn-v2-shadow") == status
    evidence = shadow.conclude("churn-v2-shadow", actor="eve", rationale="matured, sealed")
    for record in evidence:
        estimate = status["estimates"][record.metric]
        assert (record.effect, record.ci_low, record.ci_high, record.p_value) == (
            estimate["effect"],
            estimate["ci_low"],
            estimate["ci_high"],
            estimate["p_value"],
        )


def test_outcomes_logged_as_a_large_batch_pair_as_rows_do(
    shadow: ShadowComparisons,
    db: Database,
    event_log: SqlEventLog,
    clock: Clock,
    challenger: int,
    root: Path,
) -> None:
    start(shadow)
    ids, labels, sharp, blurred = served(db, clock, log=columnar(db, root, 10_000))
    scored(shadow, ids, sharp)
    half = N // 2
    mature(db, clock, ids[:half], labels[:half], log=columnar(db, root, 10_000))
    mature(db, clock, ids[half:], labels[half:], log=columnar(db, root, 10))
    assert (count(db, outcome_log), count(db, outcome_segments)) == (half, 1)

    found = pairs(db, event_log, root)
    assert found.logged == N
    assert (found.labels, found.challenger, found.control) == expected(ids, labels, sharp, blurred)
    state = shadow.status("churn-v2-shadow")
    assert (state["pairs_matured"], state["positives"]) == (N, int(labels.sum()))
    assert state["estimates"]["auc"]["challenger"] == pytest.approx(roc_auc_score(labels, sharp))


def test_scores_of_predictions_in_segments_are_accepted_and_unknown_ids_refused(
    shadow: ShadowComparisons,
    db: Database,
    event_log: SqlEventLog,
    clock: Clock,
    challenger: int,
    root: Path,
    unchanged: Callable[[], Any],
) -> None:
    start(shadow)
    batch = columnar(db, root, 3)  # every batch here is a segment
    ids, labels, sharp, blurred = served(db, clock, log=batch)
    other, *_ = served(db, clock, version=2, n=3, seed=1, log=batch)
    assert count(db, prediction_log) == 0 and count(db, prediction_segments) == 2

    def refusal(first: str) -> str:
        return re.escape(
            f"rows.prediction_id: 1 prediction id(s) are not logged predictions of churn@1 "
            f"(first: {first}); a shadow score pairs with a production prediction, nothing stored"
        )

    good = {"prediction_id": ids[0], "score": 0.3}
    with unchanged(), pytest.raises(InvalidInput, match=f"^{refusal('nope')}$"):
        shadow.log("churn-v2-shadow", [good, {"prediction_id": "nope", "score": 0.1}], actor="a")
    with unchanged(), pytest.raises(InvalidInput, match=f"^{refusal(other[0])}$"):
        shadow.log("churn-v2-shadow", [good, {"prediction_id": other[0], "score": 0.1}], actor="a")

    assert scored(shadow, ids, sharp) == len(ids)
    mature(db, clock, ids, labels, log=batch)
    found = pairs(db, event_log, root)
    assert (found.labels, found.challenger, found.control) == expected(ids, labels, sharp, blurred)
    [auc, *_] = shadow.conclude("churn-v2-shadow", actor="eve", rationale="matured")
    assert auc.control.value == pytest.approx(roc_auc_score(labels, blurred))
