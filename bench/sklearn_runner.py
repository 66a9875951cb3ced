"""Serving's call of a scikit-learn model fitted on a table (a pandas DataFrame), as most
teams fit them: Lucid's runner against the model's own calls, in one process.

For each estimator (fitted on 2,000 rows of 5 named numeric inputs) and each batch size (1,
then 100 rows, built from Python lists as a request's values arrive), it prints the time per
call of:
- `table`: the model called on a DataFrame with its input names, as a user would call it;
- `array`: the model called on a bare NumPy array (it warns that the names are missing; the
  warning is silenced here): what the prediction itself costs, the floor;
- `Lucid`: `ServedModel.predict_scored` on rows by name, the serving path's call.
Calls alternate in rounds (`--rounds`), and each figure is the median of the rounds. The goal:
Lucid within 1.5x the floor, which is the array call for a plain estimator and the table call
for a pipeline (Lucid gives a pipeline its table: a step may take its columns by name).

    uv run python bench/sklearn_runner.py [--rounds 5] [--seconds 0.3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from lucid.registry.flavours.sklearn import SklearnRunner
from lucid.registry.serving import ServedModel

NAMES = [f"f{i}" for i in range(5)]
GOAL = 1.5
"""Lucid's call within this multiple of the bare array call."""

ESTIMATORS: dict[str, Callable[[], Any]] = {
    "logistic regression": LogisticRegression,
    "decision tree (depth 6)": lambda: DecisionTreeClassifier(max_depth=6, random_state=0),
    "random forest (20 trees)": lambda: RandomForestClassifier(
        n_estimators=20, max_depth=6, random_state=0, n_jobs=1
    ),
    "histogram boosting (50)": lambda: HistGradientBoostingClassifier(max_iter=50),
    "pipeline (scaler, logistic)": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
}


def per_call(call: Callable[[], Any], seconds: float) -> float:
    """Seconds per call, repeated for about `seconds` (at least 10 calls) after one unmeasured."""
    call()
    calls, started = 0, time.perf_counter()
    while calls < 10 or time.perf_counter() - started < seconds:
        call()
        calls += 1
    return (time.perf_counter() - started) / calls


def calls(estimator: Any, rows: list[list[float]]) -> dict[str, Callable[[], Any]]:
    """The three calls of the model on `rows`: from a table, from an array, through Lucid."""
    served = ServedModel("bench", 1, tuple(f"{n}@1.0.0" for n in NAMES), SklearnRunner(estimator))
    named = [dict(zip(NAMES, row, strict=True)) for row in rows]
    return {
        "table": lambda: estimator.predict_proba(pd.DataFrame(rows, columns=NAMES)),
        "array": lambda: estimator.predict_proba(np.array(rows)),
        "Lucid": lambda: served.predict_scored(named),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="per call kind and round")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(2_000, len(NAMES)))
    labels = (matrix[:, 0] - matrix[:, 1] + rng.normal(size=2_000) > 0).astype(int)
    frame = pd.DataFrame(matrix, columns=NAMES)
    print(f"{'estimator':<28} {'rows':>4} {'table µs':>9} {'array µs':>9} {'Lucid µs':>9}  verdict")
    missed = 0
    for label, make in ESTIMATORS.items():
        estimator = make().fit(frame, labels)
        for size in (1, 100):
            timed = calls(estimator, rng.normal(size=(size, len(NAMES))).tolist())
            times: dict[str, list[float]] = {kind: [] for kind in timed}
            for _ in range(args.rounds):
                for kind, call in timed.items():
                    times[kind].append(per_call(call, args.seconds))
            table, array, lucid = (statistics.median(times[kind]) for kind in timed)
            floor, kind = (table, "table") if label.startswith("pipeline") else (array, "array")
            met = lucid <= GOAL * floor
            missed += not met
            versus_table = "" if kind == "table" else f"; {lucid / table:.2f}x the table call"
            print(
                f"{label:<28} {size:>4} {table * 1e6:9.0f} {array * 1e6:9.0f} {lucid * 1e6:9.0f}"
                f"  {lucid / floor:.2f}x the {kind} call ({'met' if met else 'MISSED'})"
                f"{versus_table}"
            )
    verdict = "met" if not missed else f"MISSED on {missed} line(s)"
    print(f"verdict: Lucid within {GOAL}x the floor on every line: {verdict}")


if __name__ == "__main__":
    main()
