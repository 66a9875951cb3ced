"""`ServedModel.predict_scored`, serving's one call of the model: the same predictions and
scores as `predict` and `predict_proba` where those agree, and no score without probabilities."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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


NAMES = ["activity", "spend"]
NAMED = pd.DataFrame(X, columns=NAMES)


def _scored_as_estimator(runner: SklearnRunner, estimator: object, rows: list[list[object]]):
    """The runner's answer and the estimator's own from a table, warnings recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = runner.predict_scored(NAMES, rows)
    table = pd.DataFrame(rows, columns=NAMES)
    probabilities = estimator.predict_proba(table)[:, 1].tolist()  # type: ignore[attr-defined]
    return answer, (estimator.predict(table).tolist(), probabilities), caught  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        DecisionTreeClassifier(max_depth=3, random_state=0),
        RandomForestClassifier(n_estimators=5, random_state=0),
        HistGradientBoostingClassifier(max_iter=10),
        make_pipeline(StandardScaler(), LogisticRegression()),
        make_pipeline(
            make_column_transformer((StandardScaler(), ["spend"]), remainder="passthrough"),
            LogisticRegression(),
        ),
    ],
    ids=["linear", "tree", "forest", "boosting", "pipeline", "columns-by-name"],
)
def test_a_model_fitted_on_a_table_scores_as_it_does_from_a_table_and_warns_of_nothing(
    estimator: object,
) -> None:
    estimator.fit(NAMED, Y)  # type: ignore[attr-defined]
    runner = SklearnRunner(estimator)
    numbers = [[float(a), float(s)] for a, s in RNG.normal(size=(40, 2))]
    integers = [[1, 2], [0, -3], [True, 4]]  # as a table's int and bool columns convert
    for rows in (numbers, numbers[:1], integers):
        (predictions, scores), (expected, probabilities), caught = _scored_as_estimator(
            runner, estimator, rows
        )
        assert predictions == expected
        assert scores == pytest.approx(probabilities, abs=1e-12)
        assert [str(w.message) for w in caught] == []
    assert list(estimator.feature_names_in_) == NAMES  # type: ignore[attr-defined]


def test_a_plain_estimator_takes_numbers_as_an_array_and_anything_else_as_a_table() -> None:
    plain = SklearnRunner(LogisticRegression().fit(NAMED, Y))
    estimator, given = plain._input(NAMES, [[1.0, 2]])
    assert estimator is not plain.estimator and isinstance(given, np.ndarray)
    assert not hasattr(estimator, "feature_names_in_") and estimator.n_features_in_ == 2
    for rows in ([[1.0, None]], [["high", 2.0]]):
        estimator, given = plain._input(NAMES, rows)  # the model's own refusal, from a table
        assert estimator is plain.estimator and isinstance(given, pd.DataFrame)
    estimator, given = plain._input(NAMES[::-1], [[1.0, 2.0]])  # names it checks itself
    assert estimator is plain.estimator and list(given.columns) == NAMES[::-1]
    with pytest.raises(ValueError, match="feature names should match"):
        plain.predict_scored(NAMES[::-1], [[1.0, 2.0]])
    pipeline = SklearnRunner(make_pipeline(StandardScaler(), LogisticRegression()).fit(NAMED, Y))
    assert pipeline._input(NAMES, [[1.0, 2.0]])[0] is pipeline.estimator


def test_a_missing_value_is_refused_by_the_model_as_from_a_table() -> None:
    runner = SklearnRunner(LogisticRegression().fit(NAMED, Y))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        runner.predict_scored(NAMES, [[1.0, None]])
