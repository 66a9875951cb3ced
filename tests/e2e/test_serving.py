"""The prediction hot path through the real `lucid serve` with two workers: what a worker keeps
between requests gives way to the next serving event, concurrent answers are all logged, and
bad requests are refused with problem bodies, storing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lucid.access.tokens import Tokens
from lucid.bootstrap import open_project
from lucid.contracts.value import Override
from lucid.storage.tables import events, prediction_log, served_features
from tests.e2e.service_world import build_project, served, server_log

ENTITIES = [f"c{n:05d}" for n in range(1, 60)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    folder = tmp_path_factory.mktemp("serving") / "project"
    secrets = build_project(folder, monitored=False)
    with served(folder, workers=2) as (base, _):
        yield folder, secrets, base


def predict(base: str, token: str | None, body: Any = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{base}/v1/predict/churn",
        headers=headers | kwargs.pop("headers", {}),
        timeout=30,
        **({"json": body} if body is not None else {}),
        **kwargs,
    )


def many(base: str, token: str, entities: list[str]) -> list[httpx.Response]:
    """One prediction per entity, 16 at a time, each on a new connection (so on either
    worker)."""
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda e: predict(base, token, {"entity_id": e}), entities))


def counts(folder: Path) -> tuple[int, int]:
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        predictions = connection.execute(select(func.count()).select_from(prediction_log))
        served_rows = connection.execute(select(func.count()).select_from(served_features))
        return int(predictions.scalar_one()), int(served_rows.scalar_one())


def test_concurrent_predictions_are_each_logged_before_their_answer(world: Any) -> None:
    folder, secrets, base = world
    before = counts(folder)
    answers = many(base, secrets["viewer"], ENTITIES * 4)
    assert [a.status_code for a in answers] == [200] * len(answers), server_log(folder)
    ids = {a.json()["prediction_id"] for a in answers}
    assert len(ids) == len(answers)
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        logged = connection.execute(
            select(prediction_log.c.id, prediction_log.c.entity, prediction_log.c.score).where(
                prediction_log.c.id.in_(ids)
            )
        ).all()
    by_id = {a.json()["prediction_id"]: a.json() for a in answers}
    assert len(logged) == len(answers)
    assert all(by_id[row.id]["entity_id"] == row.entity for row in logged)
    assert all(by_id[row.id]["score"] == pytest.approx(row.score) for row in logged)
    after = counts(folder)
    assert after == (before[0] + len(answers), before[1] + 2 * len(answers))  # 2 pinned features


def test_a_promotion_and_a_revocation_reach_both_workers_at_once(world: Any) -> None:
    folder, secrets, base = world
    assert {a.json()["version"] for a in many(base, secrets["viewer"], ENTITIES)} == {1}
    with open_project(folder, environ={}) as lucid:
        lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="retrained")
        lucid.registry.promote(
            "churn",
            2,
            "production",
            actor="bea",
            rationale="ship it",
            override=Override("bea", "the test needs no A/B"),
        )
    answers = many(base, secrets["viewer"], ENTITIES)
    assert {(a.status_code, a.json()["version"]) for a in answers} == {(200, 2)}

    token = secrets["scientist"]
    assert {a.status_code for a in many(base, token, ENTITIES[:20])} == {200}  # kept by both
    with open_project(folder, environ={}) as lucid:
        tokens = Tokens(lucid.db, lucid.events)
        [found] = [t for t in tokens.list() if t["person"] == "sam" and not t["revoked_at"]]
        tokens.revoke(found["id"], actor="ada", rationale="left the team")
    refused = many(base, token, ENTITIES[:20])
    assert {a.status_code for a in refused} == {401}
    assert "was revoked" in refused[0].json()["detail"]


def test_bad_requests_are_refused_with_a_problem_and_store_nothing(world: Any) -> None:
    folder, secrets, base = world
    token = secrets["viewer"]
    before = counts(folder)
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        head = connection.execute(select(func.max(events.c.seq))).scalar_one()

    def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        body: dict[str, Any] = answer.json()
        assert body["status"] == status and body["detail"]
        return body

    assert problem(predict(base, None, {"entity_id": "c00001"}), 401)["detail"].startswith(
        "Authorization"
    )
    basic = predict(base, None, {"entity_id": "c00001"}, headers={"Authorization": "Basic eA=="})
    assert problem(basic, 401) and basic.headers["www-authenticate"] == "Bearer"
    unknown = predict(base, "lucid_nope", {"entity_id": "c00001"})
    assert "not known" in problem(unknown, 401)["detail"]
    empty = problem(predict(base, token, {"entity_id": ""}), 422)
    assert empty["field"] == "entity_id" and "at least 1 character" in empty["detail"]
    assert problem(predict(base, token, {"entity": "c00001"}), 422)["field"] == "entity_id"
    assert problem(predict(base, token, content=b"{not json"), 422)["field"] == "body"
    assert problem(predict(base, token, content=b"x" * 70_000), 413)["detail"].startswith("body")
    nothing = httpx.post(
        f"{base}/v1/predict/nothing",
        headers={"Authorization": f"Bearer {token}"},
        json={"entity_id": "c00001"},
    )
    assert "nothing" in problem(nothing, 404)["detail"]
    # An id the customers listing does not hold: 404 naming it, nothing scored or logged.
    stranger = problem(predict(base, token, {"entity_id": "c99999"}), 404)
    assert stranger["detail"].startswith("customer 'c99999' is not known: source customers")
    wrong_method = httpx.get(
        f"{base}/v1/predict/churn", headers={"Authorization": f"Bearer {token}"}
    )
    assert problem(wrong_method, 405)
    assert counts(folder) == before
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        assert connection.execute(select(func.max(events.c.seq))).scalar_one() == head
