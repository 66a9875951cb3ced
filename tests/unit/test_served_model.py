"""`ServedModel.predict_scored`, serving's one call of the model: the same predictions and
scores as `predict` and `predict_proba` where those agree, and no score without probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from lucid.errors import InvalidInput
from lucid.registry.flavours.sklearn import SklearnRunner
from lucid.registry.serving import ServedModel

PINS = ("activity@1.0.0", "spend@1.0.0")
RNG = np.random.default_rng(7)
X = RNG.normal(size=(200, 2))
Y = (X[:, 0] + 0.5 * X[:, 1] + RNG.normal(scale=0.5, size=200) > 0).astype(int)
ROWS = [{"activity": float(a), "spend": float(s)} for a, s in RNG.normal(size=(50, 2))]


@pytest.mark.parametrize(
    "estimator", [LogisticRegression(), DecisionTreeClassifier(max_depth=3, random_state=0)]
)
def test_a_classifier_answers_its_most_probable_class_and_p_of_1(estimator: object) -> None:
    served = ServedModel("churn", 1, PINS, SklearnRunner(estimator.fit(X, Y)))  # type: ignore[attr-defined]
    predictions, scores = served.predict_scored(ROWS)
    assert predictions == served(ROWS)
    assert scores == pytest.approx(served.scores(ROWS))
    assert set(predictions) == {0, 1} and all(isinstance(p, int) for p in predictions)


def test_a_model_without_probabilities_answers_predict_and_no_score() -> None:
    served = ServedModel("spend", 1, PINS, SklearnRunner(LinearRegression().fit(X, X[:, 0])))
    predictions, scores = served.predict_scored(ROWS)
    assert predictions == pytest.approx(served(ROWS))
    assert scores == [None] * len(ROWS)


def test_no_rows_and_a_missing_feature() -> None:
    served = ServedModel("churn", 1, PINS, SklearnRunner(LogisticRegression().fit(X, Y)))
    assert served.predict_scored([]) == ([], [])
    with pytest.raises(InvalidInput, match=r"rows\[1\]: lacks the pinned feature\(s\) spend"):
        served.predict_scored([ROWS[0], {"activity": 1.0}])


def test_rows_are_given_by_name_in_the_model_s_order_whatever_the_order_of_the_pins() -> None:
    columns = ["activity", "spend"]
    model = LogisticRegression().fit(pd.DataFrame(X, columns=columns), Y)
    expected = model.predict_proba(pd.DataFrame(ROWS, columns=columns))[:, 1].tolist()
    pinned_backwards = ("spend@1.0.0", "activity@1.0.0")
    served = ServedModel(
        "churn", 1, pinned_backwards, SklearnRunner(model), inputs=("activity", "spend")
    )
    assert served.columns == columns
    assert served.scores(ROWS) == pytest.approx(expected, abs=1e-12)
    predictions, scores = served.predict_scored(ROWS)
    assert scores == pytest.approx(expected, abs=1e-12)
    assert predictions == model.predict(pd.DataFrame(ROWS, columns=columns)).tolist()
