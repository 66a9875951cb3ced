"""One serving suite over every flavour Lucid serves itself, on a SQLite and a Redis online
store: the same churn model (same features, same training data) as scikit-learn (skops), ONNX
(skl2onnx's conversion), XGBoost and LightGBM native files and an MLflow model, each its own
production model, predicted through the real `lucid serve`, one entity per request and 20
in one batch request; each score equals the native library's own call on the same feature
values within 1e-6. A model fitted on other inputs is refused at registration, naming
`features`, nothing stored. A text model (ONNX with its tokenizer, built by the tests) takes a
request-time text input; a value of the wrong type is refused naming it, nothing logged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from lucid.bootstrap import open_project
from lucid.contracts.value import Override
from lucid.errors import InvalidInput, NotFound
from lucid.features.definition_files import load_definitions
from lucid.features.serving import fresh_rows
from lucid.project import init_project
from lucid.registry.model_artifacts import (
    Artifact,
    LightgbmArtifact,
    MlflowArtifact,
    OnnxArtifact,
    SklearnArtifact,
    TextArtifact,
    XgboostArtifact,
)
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from lucid.storage.tables import events, prediction_log
from tests.contract.test_registry import retention
from tests.e2e.service_world import SPEND, V1, served, server_log
from tests.e2e.test_serving import add_recent_activity
from tests.text_models import direct_logits, text_model

pytestmark = pytest.mark.slow

PINS = [V1, SPEND]
COLUMNS = ["customer_activity_30d", "customer_spend_30d"]
OTHER_COLUMNS = ["tenure_months", "support_tickets_30d", "customer_spend_30d"]
"""The inputs of a model fitted on something else: other names, and one more of them."""
ENTITIES = [f"c{n:05d}" for n in range(20)]
STORES = {"sqlite": None, "redis": "redis://127.0.0.1:6379/0"}

Scorer = Callable[[list[list[float]]], list[float]]
"""The native library's own call: P(label = 1) for rows given in the order of the columns."""


def training_set(columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """200 rows in the features' ranges (activity a share, spend an amount), labelled by a
    noisy rule: the active, spending customers stay."""
    rng = np.random.default_rng(24)
    matrix = np.column_stack(
        [rng.uniform(0, 1 if n % 2 == 0 else 150, 200) for n in range(len(columns))]
    )
    churned = 2.0 - 3.0 * matrix[:, 0] - matrix[:, -1] / 40 + rng.normal(0, 0.7, 200) > 0
    return matrix, churned.astype(int)


def fitted_logistic(columns: list[str]) -> Any:
    from sklearn.linear_model import LogisticRegression

    matrix, labels = training_set(columns)
    return LogisticRegression().fit(pd.DataFrame(matrix, columns=columns), labels)


def sklearn_model(folder: Path, columns: list[str]) -> tuple[Artifact, Scorer]:
    model = fitted_logistic(columns)

    def native(rows: list[list[float]]) -> list[float]:
        return model.predict_proba(pd.DataFrame(rows, columns=columns))[:, 1].tolist()

    return SklearnArtifact(estimator=model), native


def onnx_model(folder: Path, columns: list[str]) -> tuple[Artifact, Scorer]:
    """The scikit-learn model converted by skl2onnx: one float tensor of the columns' width,
    probabilities as a tensor (no ZipMap)."""
    import onnxruntime
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    model = fitted_logistic(columns)
    converted = convert_sklearn(
        model,
        initial_types=[("input", FloatTensorType([None, len(columns)]))],
        options={id(model): {"zipmap": False}},
    )
    path = folder / "model.onnx"
    path.write_bytes(converted.SerializeToString())
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def native(rows: list[list[float]]) -> list[float]:
        _, probabilities = session.run(None, {"input": np.asarray(rows, dtype=np.float32)})
        return [float(p) for p in probabilities[:, 1]]

    return OnnxArtifact(path), native


def xgboost_model(folder: Path, columns: list[str]) -> tuple[Artifact, Scorer]:
    import xgboost

    matrix, labels = training_set(columns)
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
        xgboost.DMatrix(matrix, label=labels, feature_names=columns),
        num_boost_round=20,
    )
    path = folder / "model.json"
    booster.save_model(path)

    def native(rows: list[list[float]]) -> list[float]:
        table = xgboost.DMatrix(np.asarray(rows, dtype=float), feature_names=columns)
        return [float(p) for p in booster.predict(table)]

    return XgboostArtifact(path), native


def lightgbm_model(folder: Path, columns: list[str]) -> tuple[Artifact, Scorer]:
    import lightgbm

    matrix, labels = training_set(columns)
    params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5, "num_threads": 1}
    booster = lightgbm.train(
        params, lightgbm.Dataset(matrix, labels, feature_name=columns), num_boost_round=20
    )
    path = folder / "model.txt"
    booster.save_model(path)

    def native(rows: list[list[float]]) -> list[float]:
        return [float(p) for p in booster.predict(np.asarray(rows, dtype=float))]

    return LightgbmArtifact(path), native


def mlflow_model(folder: Path, columns: list[str]) -> tuple[Artifact, Scorer]:
    """The scikit-learn model saved by MLflow with its column signature; its pyfunc answers
    the probabilities."""
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature

    model = fitted_logistic(columns)
    sample = pd.DataFrame(training_set(columns)[0][:5], columns=columns)
    path = folder / "mlflow-model"
    mlflow.sklearn.save_model(
        model,
        path,
        signature=infer_signature(sample, model.predict_proba(sample)),
        pyfunc_predict_fn="predict_proba",
        pip_requirements=["scikit-learn"],  # not inferred from the environment
    )
    pyfunc = mlflow.pyfunc.load_model(str(path))

    def native(rows: list[list[float]]) -> list[float]:
        return [
            float(p) for p in np.asarray(pyfunc.predict(pd.DataFrame(rows, columns=columns)))[:, 1]
        ]

    return MlflowArtifact(path), native


FLAVOURS: dict[str, Callable[[Path, list[str]], tuple[Artifact, Scorer]]] = {
    "sklearn": sklearn_model,
    "onnx": onnx_model,
    "xgboost": xgboost_model,
    "lightgbm": lightgbm_model,
    "mlflow": mlflow_model,
}
"""Each flavour: the churn model fitted on `columns`, written under a folder, and its native
scorer."""

CASES = list(FLAVOURS)


@dataclass
class World:
    folder: Path
    base: str
    token: str
    natives: dict[str, Scorer]
    online: dict[str, list[float]]
    """Each entity's served feature values, in the order of `COLUMNS`."""


def build(folder: Path, online_store_url: str | None) -> tuple[str, dict[str, Scorer]]:
    """The project: the two features approved and materialised (the entities' values recent
    and distinct), one production model per flavour (`churn-<flavour>`) pinning them;
    returns a service token and each flavour's native scorer."""
    init_project(folder, name=f"flavours_{uuid.uuid4().hex[:8]}", actor="t", environ={}).close()
    config = folder / "lucid.yaml"
    lines = [
        f"online_store_url: {online_store_url}"
        if online_store_url is not None and line.startswith("online_store_url:")
        else line
        for line in config.read_text().splitlines()
    ]
    config.write_text("\n".join([*lines, "approvers: [bea]", "allow_pickle: true", ""]))
    write_sample_activity(folder, customers=40, days=5)
    add_recent_activity(folder, ENTITIES)
    natives = {}
    with open_project(folder, environ={}) as lucid:
        for path in (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS):
            lucid.features.apply(load_definitions(path), actor="dana", rationale="r")
        for ref in PINS:
            for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "pm")):
                lucid.features.approve(ref, team=team, person=person, rationale="ok")
        for flavour, make in FLAVOURS.items():
            (folder / flavour).mkdir()
            artifact, natives[flavour] = make(folder / flavour, COLUMNS)
            name = f"churn-{flavour}"
            version = lucid.registry.register_model(
                name,
                artifact=artifact,
                impact=retention(),
                features=PINS,
                training_data="sha256:flavours",
                offline_metrics={"auc": 0.8},
                registered_by="ana",
                rationale=f"the churn model as {flavour}",
            )
            if flavour == "sklearn":
                assert version.artifact.location.endswith(".skops")
            lucid.registry.promote(name, 1, "challenger", actor="ana", rationale="A/B")
            lucid.registry.promote(
                name,
                1,
                "production",
                actor="ana",
                rationale="first",
                override=Override("bea", "first version: nothing serves production to test"),
            )
        text_model(folder / "text", 2, ["stays", "churns"])
        lucid.registry.register_model(
            "tickets",
            artifact=TextArtifact(folder / "text"),
            impact=retention(),
            features=[],
            request_inputs=[{"name": "message", "type": "text", "max_length": 500}],
            training_data="sha256:tickets",
            offline_metrics={"auc": 0.7},
            registered_by="ana",
            rationale="support tickets read as text",
        )
        lucid.registry.promote("tickets", 1, "challenger", actor="ana", rationale="A/B")
        lucid.registry.promote(
            "tickets",
            1,
            "production",
            actor="ana",
            rationale="first",
            override=Override("bea", "first version: nothing serves production to test"),
        )
        lucid.features.materialize()  # at the real time, which the recent activity precedes
        token = lucid.tokens.create(
            person="app", role="service", teams=[], actor="admin", rationale="test"
        )[1]
    return token, natives


@pytest.fixture(scope="module", params=list(STORES))
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"flavours-{request.param}") / "project"
    token, natives = build(folder, STORES[request.param])
    try:
        with open_project(folder, environ={}) as lucid:
            served_values = lucid.features.get_online_features(ENTITIES, PINS)
        online = {
            entity: [float(row[pin]) for pin in PINS]
            for entity, row in zip(ENTITIES, fresh_rows(served_values), strict=True)
        }
        with served(folder) as (base, _):
            yield World(folder, base, token, natives, online)
    finally:
        if STORES[request.param] is not None:
            with open_project(folder, environ={}) as lucid:
                lucid.online_store.clear()


def inputs_of(answer: dict[str, Any], world: World) -> list[float]:
    """The feature values a prediction was made from: the answer's `inputs` where it gives
    them (by feature name or pin), else the values served online."""
    given = answer.get("inputs") or {}
    online = world.online[answer["entity_id"]]
    return [
        float(given.get(column, given.get(pin, value)))
        for column, pin, value in zip(COLUMNS, PINS, online, strict=True)
    ]


@pytest.mark.parametrize("flavour", CASES)
def test_each_flavour_serves_the_native_librarys_scores(world: World, flavour: str) -> None:
    def predict(entity: str) -> httpx.Response:
        return httpx.post(
            f"{world.base}/v1/predict/churn-{flavour}",
            headers={"Authorization": f"Bearer {world.token}"},
            json={"entity_id": entity},
            timeout=30,
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(predict, ENTITIES))
    assert [a.status_code for a in answers] == [200] * len(ENTITIES), server_log(world.folder)
    bodies = [a.json() for a in answers]
    assert [(b["entity_id"], b["version"], b["arm"]) for b in bodies] == [
        (entity, 1, "production") for entity in ENTITIES
    ]
    rows = [inputs_of(body, world) for body in bodies]
    expected = world.natives[flavour](rows)
    assert [body["score"] for body in bodies] == pytest.approx(expected, abs=1e-6)
    assert len({round(score, 6) for score in expected}) > 2  # rows differ: an order would show


@pytest.mark.parametrize("flavour", CASES)
def test_each_flavour_scores_a_batch_as_the_native_library(world: World, flavour: str) -> None:
    answer = httpx.post(
        f"{world.base}/v1/predict/churn-{flavour}",
        headers={"Authorization": f"Bearer {world.token}"},
        json={"entities": [{"entity_id": entity} for entity in ENTITIES]},
        timeout=30,
    )
    assert answer.status_code == 200, server_log(world.folder)
    assert answer.json()["model"] == f"churn-{flavour}"
    predictions = answer.json()["predictions"]
    assert [p["entity_id"] for p in predictions] == ENTITIES
    assert len({p["prediction_id"] for p in predictions}) == len(ENTITIES)
    expected = world.natives[flavour]([inputs_of(p, world) for p in predictions])
    assert [p["score"] for p in predictions] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("flavour", CASES)
def test_a_model_fitted_on_other_inputs_is_refused_at_registration(
    world: World, flavour: str, tmp_path: Path
) -> None:
    artifact, _ = FLAVOURS[flavour](tmp_path, OTHER_COLUMNS)
    name = f"wrong-{flavour}"
    with open_project(world.folder, environ={}) as lucid:
        with lucid.db.transaction() as connection:
            head = connection.execute(select(func.max(events.c.seq))).scalar_one()
        with pytest.raises(InvalidInput) as refused:
            lucid.registry.register_model(
                name,
                artifact=artifact,
                impact=retention(),
                features=PINS,
                training_data="sha256:other",
                offline_metrics={"auc": 0.8},
                registered_by="ana",
                rationale="fitted on other inputs",
            )
        assert refused.value.field == "features"
        with pytest.raises(NotFound):
            lucid.registry.versions(name)
        with lucid.db.transaction() as connection:
            assert connection.execute(select(func.max(events.c.seq))).scalar_one() == head
    assert not list(world.folder.rglob(f"*{name}*"))


MESSAGES = [
    "the delivery was late again and support never answered",
    "great service fast delivery thank you",
    "i want to cancel my subscription",
    "a sentence of words the tokenizer never saw",
]


def test_a_text_model_scores_a_request_time_text_as_its_tokenizer_and_onnxruntime(
    world: World,
) -> None:
    headers = {"Authorization": f"Bearer {world.token}"}
    single = [
        httpx.post(
            f"{world.base}/v1/predict/tickets",
            headers=headers,
            json={"entity_id": ENTITIES[n], "inputs": {"message": message}},
            timeout=30,
        )
        for n, message in enumerate(MESSAGES)
    ]
    assert [a.status_code for a in single] == [200] * len(MESSAGES), single[0].text
    batch = httpx.post(
        f"{world.base}/v1/predict/tickets",
        headers=headers,
        json={
            "entities": [
                {"entity_id": ENTITIES[n], "inputs": {"message": message}}
                for n, message in enumerate(MESSAGES)
            ]
        },
        timeout=30,
    )
    assert batch.status_code == 200, server_log(world.folder)
    logits = direct_logits(world.folder / "text", MESSAGES)
    expected = (np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)).tolist()
    for answers in ([a.json() for a in single], batch.json()["predictions"]):
        assert [a["inputs"]["message"] for a in answers] == MESSAGES
        assert [a["score"] for a in answers] == pytest.approx(expected, abs=1e-6)
        assert [a["prediction"] for a in answers] == [
            ["stays", "churns"][i] for i in logits.argmax(axis=1)
        ]


def test_a_request_time_input_of_the_wrong_type_is_refused_naming_it(world: World) -> None:
    def logged() -> int:
        with open_project(world.folder, environ={}) as lucid, lucid.db.transaction() as db:
            return int(db.execute(select(func.count()).select_from(prediction_log)).scalar_one())

    before = logged()
    headers = {"Authorization": f"Bearer {world.token}"}
    for body, field in (
        ({"entity_id": ENTITIES[0], "inputs": {"message": 42}}, "inputs.message"),
        ({"entity_id": ENTITIES[0]}, "inputs.message"),
        (
            {
                "entities": [
                    {"entity_id": ENTITIES[0], "inputs": {"message": "fine"}},
                    {"entity_id": ENTITIES[1], "inputs": {"message": "x" * 501}},
                ]
            },
            "entities[1].inputs.message",
        ),
    ):
        answer = httpx.post(
            f"{world.base}/v1/predict/tickets", headers=headers, json=body, timeout=30
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field, answer.json()
    assert logged() == before
