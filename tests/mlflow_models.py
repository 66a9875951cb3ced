"""Real MLflow models saved by MLflow itself: a scikit-learn classifier (skops, with
probabilities) and a custom pyfunc regressor (no probabilities), each with a signature."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

with warnings.catch_warnings():  # MLflow warns about its own type hints when imported
    warnings.simplefilter("ignore")
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature

COLUMNS = ["customer_activity_30d", "tenure_months"]


def training_table(rows: int = 40, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    generator = np.random.default_rng(seed)
    table = pd.DataFrame(
        {COLUMNS[0]: generator.random(rows), COLUMNS[1]: generator.integers(1, 40, rows) * 1.0}
    )
    labels = (table[COLUMNS[0]] * 30 < table[COLUMNS[1]]).astype(int).to_numpy()
    return table, labels


def sklearn_classifier(folder: Path, c: float = 1.0) -> LogisticRegression:
    """A logistic regression saved with MLflow's scikit-learn flavour into `folder`."""
    table, labels = training_table()
    model = LogisticRegression(C=c).fit(table, labels)
    signature = infer_signature(table, model.predict(table))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(model, str(folder), signature=signature, pip_requirements=[])
    return model


class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    """A regressor: twice the activity plus the tenure."""

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        return 2 * model_input[COLUMNS[0]] + model_input[COLUMNS[1]]


def pyfunc_regressor(folder: Path) -> None:
    """The `Doubler` saved as an MLflow pyfunc model into `folder`."""
    table, _ = training_table()
    signature = infer_signature(table, Doubler().predict(None, table))
    with warnings.catch_warnings():  # MLflow asks for an input example, which it need not have
        warnings.simplefilter("ignore")
        mlflow.pyfunc.save_model(
            str(folder), python_model=Doubler(), signature=signature, pip_requirements=[]
        )
