"""Shadow scoring through the real `lucid serve`: while a comparison runs, every production
prediction is also scored by the challenger on the same feature values and its score logged
with the production prediction's id in the same commit; the answer is unchanged. Then the
`/v1/shadow` routes: start, scores, status, conclude, and their refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import select

from lucid.bootstrap import open_project
from lucid.storage.tables import prediction_log, shadow_scores
from tests.e2e.service_world import build_project, served, server_log

ENTITIES = [f"c{n:05d}" for n in range(1, 41)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    folder = tmp_path_factory.mktemp("shadow") / "project"
    secrets = build_project(folder, monitored=False)
    with open_project(folder, environ={}) as lucid:
        lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="shadow it")
    with served(folder, workers=1) as (base, _):
        yield folder, secrets, base


def call(base: str, token: str, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{base}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        **({"json": body} if body is not None else {}),
    )


def test_the_challenger_scores_production_requests_in_the_shadow(world: Any) -> None:
    folder, secrets, base = world
    before = call(base, secrets["service"], "POST", "/v1/predict/churn", {"entity_id": "c00001"})
    assert before.status_code == 200, server_log(folder)
    started = call(
        base,
        secrets["scientist"],
        "POST",
        "/v1/shadow",
        {"id": "churn-v2-shadow", "model": "churn", "challenger": 2, "rationale": "rank better?"},
    )
    assert started.status_code == 201, started.text
    assert started.json()["control_version"] == 1
    answers = [
        call(base, secrets["service"], "POST", "/v1/predict/churn", {"entity_id": e})
        for e in ENTITIES
    ]
    assert {a.status_code for a in answers} == {200}, server_log(folder)
    assert set(answers[0].json()) == set(before.json())  # the challenger does not act
    assert {a.json()["version"] for a in answers} == {1}
    ids = [a.json()["prediction_id"] for a in answers]
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        scores = dict(
            connection.execute(
                select(shadow_scores.c.prediction_id, shadow_scores.c.score).where(
                    shadow_scores.c.comparison_id == "churn-v2-shadow"
                )
            ).all()
        )
        logged = connection.execute(
            select(prediction_log.c.id, prediction_log.c.features).where(
                prediction_log.c.id.in_(ids)
            )
        ).all()
        challenger_predictions = connection.execute(
            select(prediction_log.c.id).where(prediction_log.c.version == "2")
        ).all()
        challenger = lucid.registry.load_model("churn", version=2)
        expected = {row.id: challenger.scores([json.loads(row.features)])[0] for row in logged}
    assert set(scores) == set(ids)
    assert challenger_predictions == []  # monitoring's log holds production's predictions only
    assert all(scores[i] == pytest.approx(expected[i]) for i in ids)
    status = call(base, secrets["viewer"], "GET", "/v1/shadow/churn-v2-shadow").json()
    assert (status["pairs_logged"], status["pairs_matured"]) == (len(ids), 0)
    # Outcomes logged on the production predictions by the monitoring route count.
    now = datetime.now(UTC).isoformat()
    outcomes = [
        {"prediction_id": i, "label": n % 2, "observed_at": now} for n, i in enumerate(ids[:30])
    ]
    logged_outcomes = call(
        base, secrets["service"], "POST", "/v1/outcomes", {"model": "churn", "outcomes": outcomes}
    )
    assert logged_outcomes.status_code == 200, logged_outcomes.text
    status = call(base, secrets["viewer"], "GET", "/v1/shadow/churn-v2-shadow").json()
    assert (status["pairs_matured"], status["positives"], status["negatives"]) == (30, 15, 15)
    assert "fewer than the 200 required" in status["reason"]
    assert 0 <= status["estimates"]["auc"]["challenger"] <= 1


def test_shadow_routes_refuse_bad_requests_and_store_nothing(world: Any) -> None:
    folder, secrets, base = world
    scientist, service = secrets["scientist"], secrets["service"]
    again = call(
        base,
        scientist,
        "POST",
        "/v1/shadow",
        {"id": "second", "model": "churn", "challenger": 2, "rationale": "twice"},
    )
    assert again.status_code == 409 and "already has the running shadow" in again.json()["detail"]
    viewer = call(
        base,
        secrets["viewer"],
        "POST",
        "/v1/shadow/churn-v2-shadow/conclude",
        {"rationale": "now"},
    )
    assert viewer.status_code == 403
    early = call(
        base, scientist, "POST", "/v1/shadow/churn-v2-shadow/conclude", {"rationale": "now"}
    )
    assert early.status_code == 409 and "have not matured" in early.json()["detail"]
    unknown = call(
        base,
        service,
        "POST",
        "/v1/shadow/churn-v2-shadow/scores",
        {"scores": [{"prediction_id": "p-nope", "score": 0.4}]},
    )
    assert unknown.status_code == 422 and "not logged predictions" in unknown.json()["detail"]
    extra = call(
        base,
        service,
        "POST",
        "/v1/shadow/churn-v2-shadow/scores",
        {"scores": [{"prediction_id": "p", "score": 0.4, "arm": "x"}]},
    )
    assert extra.status_code == 422
    wrong_stage = call(
        base,
        scientist,
        "POST",
        "/v1/shadow",
        {"id": "third", "model": "churn", "challenger": 1, "rationale": "production?"},
    )
    assert wrong_stage.status_code == 409
    missing = call(base, scientist, "GET", "/v1/shadow/nothing-here")
    assert missing.status_code == 404
    with open_project(folder, environ={}) as lucid:
        assert [c["id"] for c in lucid.shadow.overview()] == ["churn-v2-shadow"]
        assert lucid.shadow.status("churn-v2-shadow")["status"] == "running"


def test_a_backtest_scores_the_same_point_in_time_rows_with_both_versions(
    world: Any, tmp_path: Path
) -> None:
    from sklearn.metrics import roc_auc_score

    from lucid.contracts.value import EvidenceKind, Origin
    from lucid.errors import InvalidInput
    from lucid.scenarios.churn.sample_activity import START

    folder = world[0]
    moment = START + timedelta(days=40)
    rows = [
        {"entity_id": f"c{n:05d}", "event_timestamp": moment, "label": int(n % 3 == 0)}
        for n in range(120)
    ]
    labels = tmp_path / "labels.parquet"
    pd.DataFrame(rows).to_parquet(labels)
    with open_project(folder, environ={}) as lucid:
        before = lucid.events.count()
        for bad, reason in (
            ([{k: v for k, v in r.items() if k != "label"} for r in rows], "lacks the column"),
            ([{**r, "label": 1} for r in rows], "only the class 1"),
            (rows[:60], "fewer than the 100 required"),
        ):
            with pytest.raises(InvalidInput, match=reason):
                lucid.shadow.backtest(
                    "churn", 2, labels=bad, actor="ana", rationale="r", minimum_pairs=100
                )
        assert lucid.events.count() == before
        evidence = lucid.shadow.backtest(
            "churn",
            2,
            labels=labels,
            actor="ana",
            rationale="same snapshots",
            metrics=("auc", "log_loss"),
            minimum_pairs=100,
        )
        scored = []
        for version in (2, 1):
            served_model = lucid.registry.load_model("churn", version=version)
            training = lucid.features.get_training_set(
                labels,
                list(served_model.features),
                entity_column="entity_id",
                time_column="event_timestamp",
            ).to_dicts()
            names = served_model.columns
            scored.append(served_model.scores([{n: r[n] or 0.0 for n in names} for r in training]))
        attached = lucid.registry.get_version("churn", 2).evidence
    y = [r["label"] for r in rows]
    assert len(set(scored[0])) > 20 and len(set(scored[1])) > 20  # real features, not fillers
    auc = evidence[0]
    assert (auc.kind, auc.origin, auc.metric) == (EvidenceKind.PREDICTIVE, Origin.LUCID, "auc")
    assert (auc.control.name, auc.treatment.name) == ("churn@1", "churn@2")
    assert auc.treatment.value == pytest.approx(roc_auc_score(y, scored[0]))
    assert auc.control.value == pytest.approx(roc_auc_score(y, scored[1]))
    assert auc.data["pairs"] == 120 and auc.data["labels"] == str(labels)
    assert {(e.kind, e.origin) for e in attached} == {(EvidenceKind.PREDICTIVE, Origin.LUCID)}
    assert sorted(e.metric for e in attached) == ["auc", "log_loss"]
