"""The prediction hot path through the real `lucid serve` with two workers: what a worker keeps
between requests gives way to the next serving event, concurrent answers are all logged, and
bad requests are refused with problem bodies, storing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select

from lucid.bootstrap import open_project
from lucid.contracts.value import Override
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.storage.tables import events, prediction_log, served_features
from tests.contract.test_registry import retention
from tests.e2e.service_world import SPEND, V1, build_project, served, server_log

ENTITIES = [f"c{n:05d}" for n in range(1, 60)]
FRAUD: list[LogisticRegression] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    folder = tmp_path_factory.mktemp("serving") / "project"
    secrets = build_project(folder, monitored=False)
    FRAUD.append(register_fraud(folder))  # promoted before any served value could skew
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
    answers = many(base, secrets["service"], ENTITIES * 4)
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
    assert {a.json()["version"] for a in many(base, secrets["service"], ENTITIES)} == {1}
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
    answers = many(base, secrets["service"], ENTITIES)
    assert {(a.status_code, a.json()["version"]) for a in answers} == {(200, 2)}

    token = secrets["scientist"]
    assert {a.status_code for a in many(base, token, ENTITIES[:20])} == {200}  # kept by both
    with open_project(folder, environ={}) as lucid:
        tokens = lucid.tokens
        [found] = [t for t in tokens.list() if t["person"] == "sam" and not t["revoked_at"]]
        tokens.revoke(found["id"], actor="ada", rationale="left the team")
    refused = many(base, token, ENTITIES[:20])
    assert {a.status_code for a in refused} == {401}
    assert "was revoked" in refused[0].json()["detail"]


def test_bad_requests_are_refused_with_a_problem_and_store_nothing(world: Any) -> None:
    folder, secrets, base = world
    token = secrets["service"]
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
    assert problem(predict(base, token, content=b"x" * (1024 * 1024 + 1)), 413)[
        "detail"
    ].startswith("body")
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


def test_a_refused_entity_fails_its_own_request_and_none_read_and_scored_with_it(
    world: Any,
) -> None:
    folder, secrets, base = world
    before = counts(folder)
    asked = [f"stranger-{n}" if n % 4 == 0 else entity for n, entity in enumerate(ENTITIES * 3)]
    answers = many(base, secrets["service"], asked)  # requests of one turn share a read and a call
    for entity, answer in zip(asked, answers, strict=True):
        if entity.startswith("stranger"):
            assert answer.status_code == 404, answer.text
            assert answer.json()["detail"].startswith(f"customer '{entity}' is not known")
        else:
            assert answer.status_code == 200, answer.text
            assert answer.json()["entity_id"] == entity
    scored = sum(not entity.startswith("stranger") for entity in asked)
    assert counts(folder) == (before[0] + scored, before[1] + 2 * scored)


def add_recent_activity(folder: Path, entities: list[str]) -> None:
    """Purchases and logins of the last days for `entities`, each entity its own amounts, so
    their served features differ from one another and between the two features."""
    now = datetime.now(UTC).replace(tzinfo=None)  # the sources' naive times are UTC
    purchases, logins = [], []
    for number, entity in enumerate(entities):
        for step in range(number % 4 + 1):  # the latest hours old: fresh under the TTL of 2d
            moment = now - timedelta(hours=6 * step + number + 1)
            purchases.append(
                {
                    "customer_id": entity,
                    "purchased_at": moment,
                    "ingested_at": moment,
                    "amount": 15.0 * (number + 1),
                    "is_bot": False,
                    "is_test": False,
                }
            )
        for step in range(11 - number % 5):
            moment = now - timedelta(hours=5 * step + 1)
            login = {"customer_id": entity, "logged_in_at": moment, "ingested_at": moment}
            logins.append({**login, "is_bot": False})
    for name, rows in (("purchases", purchases), ("logins", logins)):
        stored = pq.read_schema(folder / "data" / name / "part-0.parquet")
        table = pa.Table.from_pylist(rows, schema=stored)
        pq.write_table(table, folder / "data" / name / "part-recent.parquet")


def test_a_model_pinned_in_another_order_than_its_inputs_is_served_by_name(world: Any) -> None:
    folder, secrets, base = world
    columns = ["customer_activity_30d", "customer_spend_30d"]
    frame = pd.DataFrame([[0.0, 0.0], [0.9, 80.0], [0.2, 10.0], [0.7, 50.0]], columns=columns)
    model = LogisticRegression().fit(frame, [1, 0, 1, 0])
    with open_project(folder, environ={}) as lucid:
        version = lucid.registry.register_model(
            "churn",
            artifact=SklearnArtifact(estimator=model),
            impact=retention(),
            features=[SPEND, V1],  # the model takes activity first
            training_data="sha256:named",
            offline_metrics={"auc": 0.8},
            registered_by="ana",
            rationale="fitted on a table with column names",
        ).version
        lucid.registry.promote("churn", version, "challenger", actor="ana", rationale="named")
        lucid.registry.promote(
            "churn",
            version,
            "production",
            actor="bea",
            rationale="ship it",
            override=Override("bea", "the test needs no A/B"),
        )
    add_recent_activity(folder, ENTITIES[:12])
    with open_project(folder, environ={}) as lucid:
        lucid.features.materialize()  # at the real time, which the new events precede
    answers = many(base, secrets["service"], ENTITIES[:12])
    assert {(a.status_code, a.json()["version"]) for a in answers} == {(200, version)}
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        logged = connection.execute(
            select(prediction_log.c.features, prediction_log.c.score).where(
                prediction_log.c.id.in_([a.json()["prediction_id"] for a in answers])
            )
        ).all()
    inputs = pd.DataFrame([json.loads(row.features) for row in logged])[columns]
    expected = model.predict_proba(inputs)[:, 1]
    assert [row.score for row in logged] == pytest.approx(expected.tolist(), abs=1e-9)
    assert len(set(expected.round(6))) > 1  # the entities' scores differ: order would show


def register_fraud(folder: Path) -> LogisticRegression:
    """A production `fraud` model taking the two pinned features and the request-time
    `amount` (a number in [0, 10000]) and `channel` (web or app), by name."""
    columns = ["customer_activity_30d", "customer_spend_30d", "amount", "web"]
    rows = [[0.0, 0.0, 9000.0, 1], [0.9, 80.0, 20.0, 0], [0.2, 10.0, 5000.0, 1], [0.7, 50, 5, 0]]
    model = LogisticRegression().fit(pd.DataFrame(rows, columns=columns), [1, 0, 1, 0])
    with open_project(folder, environ={}) as lucid:
        version = lucid.registry.register_model(
            "fraud",
            artifact=SklearnArtifact(estimator=model),
            impact=retention(),
            features=[SPEND, V1],
            training_data="sha256:fraud",
            offline_metrics={"auc": 0.8},
            registered_by="ana",
            rationale="the amount is known only at request time",
            request_inputs=[
                {"name": "amount", "type": "number", "minimum": 0, "maximum": 10_000},
                {"name": "web", "type": "boolean"},
            ],
        ).version
        lucid.registry.promote("fraud", version, "challenger", actor="ana", rationale="new")
        lucid.registry.promote(
            "fraud",
            version,
            "production",
            actor="bea",
            rationale="ship it",
            override=Override("bea", "the test needs no A/B"),
        )
    return model


def test_request_time_inputs_and_batches_are_checked_predicted_and_logged(world: Any) -> None:
    folder, secrets, base = world
    [model] = FRAUD
    headers = {"Authorization": f"Bearer {secrets['service']}"}

    def ask(body: Any) -> httpx.Response:
        return httpx.post(f"{base}/v1/predict/fraud", headers=headers, json=body, timeout=30)

    single = ask({"entity_id": "c00001", "inputs": {"amount": 12.5, "web": True}})
    assert single.status_code == 200, single.text + server_log(folder)
    one = single.json()
    assert one["model"] == "fraud" and one["arm"] == "production" and one["entity_id"] == "c00001"
    assert one["inputs"]["amount"] == 12.5 and one["inputs"]["web"] is True
    assert set(one["inputs"]) == {"customer_activity_30d", "customer_spend_30d", "amount", "web"}

    entities = [
        {"entity_id": entity, "inputs": {"amount": 100.0 * n, "web": n % 2 == 0}}
        for n, entity in enumerate(ENTITIES[:25])
    ]
    batch = ask({"entities": entities})
    assert batch.status_code == 200, batch.text
    answers = batch.json()["predictions"]
    assert batch.json()["model"] == "fraud"
    assert [a["entity_id"] for a in answers] == ENTITIES[:25]
    assert [a["inputs"]["amount"] for a in answers] == [100.0 * n for n in range(25)]
    columns = ["customer_activity_30d", "customer_spend_30d", "amount", "web"]
    frame = pd.DataFrame([a["inputs"] for a in answers])[columns]
    expected = model.predict_proba(frame)[:, 1]
    assert [a["score"] for a in answers] == pytest.approx(expected.tolist(), abs=1e-9)
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        logged = dict(
            connection.execute(
                select(prediction_log.c.id, prediction_log.c.features).where(
                    prediction_log.c.id.in_([a["prediction_id"] for a in answers])
                )
            ).all()
        )
    assert len(logged) == 25
    assert all(json.loads(logged[a["prediction_id"]]) == a["inputs"] for a in answers)

    before = counts(folder)
    bad = [*entities[:3], {"entity_id": "c00004", "inputs": {"amount": "12", "web": True}}]
    refused = ask({"entities": bad})
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "entities[3].inputs.amount"
    assert refused.json()["detail"] == (
        "entities[3].inputs.amount: must be a number in [0, 10000], not the text '12'"
    )
    missing = ask({"entity_id": "c00001"}).json()
    assert missing["detail"] == "inputs.amount: is required (a number in [0, 10000])"
    wrong = ask({"entity_id": "c00001", "inputs": {"amount": 1, "web": True, "tip": 2}}).json()
    assert wrong["field"] == "inputs.tip"
    high = ask({"entity_id": "c00001", "inputs": {"amount": 10_001, "web": True}}).json()
    assert high["detail"].startswith("inputs.amount: must be a number in [0, 10000], not 10001")
    oversized = ask({"entities": [entities[0]] * 1001})
    assert oversized.status_code == 422
    assert oversized.json()["detail"] == (
        "entities: must hold 1 to 1000 entities (max_predict_batch), not 1001"
    )
    assert ask({"entities": []}).json()["field"] == "entities"
    nan = httpx.post(
        f"{base}/v1/predict/fraud",
        headers=headers | {"content-type": "application/json"},
        content=b'{"entity_id": "c00001", "inputs": {"amount": NaN, "web": true}}',
    )
    assert nan.status_code == 422 and nan.json()["field"] == "body"
    assert counts(folder) == before  # nothing of the refused requests is logged

    full = ask({"entities": [entities[0]] * 1000})  # the largest batch fits the body limit
    assert full.status_code == 200 and len(full.json()["predictions"]) == 1000


def test_serve_says_where_it_serves_once_and_warns_of_nothing(world: Any) -> None:
    folder, secrets, base = world
    many(base, secrets["service"], ENTITIES[:30])
    said = server_log(folder)
    assert said.count(f"API:          {base}/v1") == 1, said
    assert f"Dashboard:    {base}/dashboard" in said
    assert "Workers:      2" in said
    assert "Metadata:     sqlite:///" in said and "Online store:" in said and "Artifacts:" in said
    assert "Warning" not in said and "warn" not in said.lower(), said
