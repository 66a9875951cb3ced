"""Request-time inputs at registration on SQLite and PostgreSQL: declared with the version,
stored and read back, in its event; the model's inputs must be the pins and the request-time
inputs together (by name, or by count, pins first); a mismatch stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from lucid.contracts.value.request_inputs import InputType, RequestInput
from lucid.errors import InvalidInput
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.registry.model_registry import ModelRegistry
from lucid.storage.event_log import SqlEventLog
from tests.contract.test_model_signature import pins, registry, unchanged  # noqa: F401
from tests.contract.test_registry import retention

RNG = np.random.default_rng(24)
TRAIN = pd.DataFrame(RNG.normal(size=(200, 3)) * [1.0, 40.0, 500.0], columns=["a", "b", "amount"])
LABELS = (TRAIN["a"] + TRAIN["amount"] / 500 > 0).astype(int)
AMOUNT = RequestInput("amount", InputType.NUMBER, minimum=-5000, maximum=5000)


def register(into: ModelRegistry, model: Any, features: list[str], asked: Any) -> Any:
    return into.register_model(
        "fraud",
        artifact=SklearnArtifact(estimator=model),
        impact=retention(),
        features=features,
        training_data="sha256:1f2e",
        offline_metrics={"auc": 0.8},
        registered_by="ana",
        rationale="request-time inputs",
        request_inputs=asked,
    )


def test_a_named_model_takes_pins_and_request_inputs_by_name(
    registry: ModelRegistry,  # noqa: F811
    event_log: SqlEventLog,
) -> None:
    model = LogisticRegression().fit(TRAIN, LABELS)
    asked = [{"name": "amount", "type": "number", "minimum": -5000, "maximum": 5000}]
    version = register(registry, model, pins("b", "a"), asked)
    assert version.request_inputs == (AMOUNT,)
    assert version.inputs == ("a", "b", "amount")
    assert version.to_dict()["request_inputs"] == [AMOUNT.to_dict()]
    assert registry.get_version("fraud", version.version) == version
    [event] = [e for e in event_log.read(type="ModelRegistered") if e.payload["name"] == "fraud"]
    assert event.payload["request_inputs"] == [AMOUNT.to_dict()]
    served = registry.load_model("fraud", version=version.version)
    assert served.request_inputs == (AMOUNT,) and served.columns == ["a", "b", "amount"]
    rows = served.by_name([{"a@1": 0.5, "b@1": 3.0}], [{"amount": 100.0}])
    assert rows == [{"b": 3.0, "a": 0.5, "amount": 100.0}]
    expected = model.predict_proba(pd.DataFrame([[0.5, 3.0, 100.0]], columns=TRAIN.columns))
    assert served.scores(rows) == pytest.approx([expected[0, 1]], abs=1e-12)
    with pytest.raises(InvalidInput, match=r"rows\[0\]: lacks the request-time input\(s\) amount"):
        served.scores([{"a": 0.5, "b": 3.0}])


def test_an_unnamed_model_takes_the_pins_then_the_request_inputs(
    registry: ModelRegistry,  # noqa: F811
) -> None:
    model = LogisticRegression().fit(TRAIN.to_numpy(), LABELS)
    version = register(registry, model, pins("a", "b"), [AMOUNT])
    assert version.inputs == ("a", "b", "amount")
    assert version.request_inputs == (AMOUNT,)
    alone = register(
        registry, LogisticRegression().fit(TRAIN[["amount"]].to_numpy(), LABELS), [], [AMOUNT]
    )
    assert alone.inputs == ("amount",)


@pytest.mark.parametrize(
    ("features", "asked", "sentence"),
    [
        (
            pins("a", "b"),
            [],
            r"features: no pin provides the model's input\(s\) amount \(the model takes a, b, "
            r"amount\)",
        ),
        (
            pins("a"),
            [AMOUNT],
            r"features: no pin or request-time input provides the model's input\(s\) b",
        ),
        (
            pins("a", "b"),
            [AMOUNT, {"name": "tip", "type": "number"}],
            r"features: the model does not take the request-time input\(s\) tip",
        ),
        (
            pins("a", "b"),
            [{"name": "a", "type": "number"}],
            r"request_inputs\[0\].name: a is a pinned feature",
        ),
        (pins("a", "b"), [{"name": "amount", "type": "money"}], r"request_inputs\[0\].type"),
    ],
    ids=["missing", "missing-with-inputs", "unused", "pinned-name", "bad-type"],
)
def test_a_mismatch_is_refused_and_stores_nothing(
    registry: ModelRegistry,  # noqa: F811
    unchanged: Callable[[], Any],  # noqa: F811
    features: list[str],
    asked: list[Any],
    sentence: str,
) -> None:
    model = LogisticRegression().fit(TRAIN, LABELS)
    with unchanged(), pytest.raises(InvalidInput, match=sentence):
        register(registry, model, features, asked)


def test_an_unnamed_model_counts_pins_and_request_inputs(
    registry: ModelRegistry,  # noqa: F811
    unchanged: Callable[[], Any],  # noqa: F811
) -> None:
    model = LogisticRegression().fit(TRAIN.to_numpy(), LABELS)
    with (
        unchanged(),
        pytest.raises(
            InvalidInput,
            match=r"takes 3 unnamed inputs in the order "
            r"of the pins then the request-time inputs but 1 feature is "
            r"pinned and 1 request-time input\(s\) declared",
        ),
    ):
        register(registry, model, pins("a"), [AMOUNT])
