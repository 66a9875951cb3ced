"""Shadow scoring through the real `lucid serve`: while a comparison runs, every production
prediction is also scored by the challenger on the same feature values and its score logged
with the production prediction's id in the same commit; the answer is unchanged. Then the
`/v1/shadow` routes: start, scores, status, conclude, and their refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
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
        challenger = lucid.registry.load_model("churn", version=2)
        expected = {row.id: challenger.scores([json.loads(row.features)])[0] for row in logged}
    assert set(scores) == set(ids)
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
