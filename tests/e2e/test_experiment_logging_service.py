"""Exposures (with their CUPED covariate) and outcomes of an experiment logged over HTTP on a
real `lucid serve`; bad batches refused whole, nothing stored."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import httpx
import pytest

from lucid.bootstrap import open_project
from lucid.contracts.experiments import CHALLENGER, assign
from lucid.errors import InvalidInput
from tests.e2e.service_world import build_project, served

ENTITIES = [f"cust-{i:04d}" for i in range(400)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    folder = tmp_path_factory.mktemp("experiment-logging") / "shop"
    secrets = build_project(folder, monitored=True)
    with served(folder) as (base, _):
        yield base, secrets, folder


def post(world: Any, path: str, body: Any, role: str = "service") -> httpx.Response:
    base, secrets, _ = world
    headers = {"Authorization": f"Bearer {secrets[role]}"}
    return httpx.post(f"{base}{path}", headers=headers, json=body, timeout=30)


def analysis(world: Any) -> dict[str, Any]:
    base, secrets, _ = world
    headers = {"Authorization": f"Bearer {secrets['viewer']}"}
    answer = httpx.get(f"{base}/v1/experiments/churn-ab", headers=headers, timeout=30)
    found: dict[str, Any] = answer.json()["analysis"]
    return found


def refused(answer: httpx.Response, status: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    for word in words:
        assert word in answer.text, answer.text


def test_exposures_and_outcomes_by_http_feed_the_analysis_and_bad_batches_store_nothing(
    world: Any,
) -> None:
    path = "/v1/experiments/churn-ab"
    # Bad exposure batches: nothing of them is stored.
    refused(post(world, f"{path}/exposures", {"exposures": []}), 422)
    refused(post(world, f"{path}/exposures", {"exposures": [{"entity_id": "a", "x": 1}]}), 422, "x")
    wrong = "control" if assign(ENTITIES[0], "churn-ab", 0.1) == CHALLENGER else "challenger"
    rows = [{"entity_id": ENTITIES[0], "arm": wrong}, {"entity_id": ENTITIES[1]}]
    refused(post(world, f"{path}/exposures", {"exposures": rows}), 422, "assigned to")
    too_many = [{"entity_id": f"e{i}"} for i in range(10_001)]
    refused(post(world, f"{path}/exposures", {"exposures": too_many}), 422)
    refused(post(world, f"{path}/exposures", {"exposures": rows[1:]}, role="viewer"), 403)
    refused(post(world, "/v1/experiments/nope/exposures", {"exposures": rows[1:]}), 404)
    assert analysis(world)["control"]["exposed"] + analysis(world)["challenger"]["exposed"] == 0

    exposures = [{"entity_id": e, "covariate": float(i % 7)} for i, e in enumerate(ENTITIES)]
    logged = post(world, f"{path}/exposures", {"exposures": exposures})
    assert logged.status_code == 201, logged.text
    assert logged.json()["control"] + logged.json()["challenger"] == len(ENTITIES)

    # Bad outcome batches: an unexposed entity, a non-finite value, an unknown metric.
    good = [{"entity_id": e, "value": (i % 7) + (i % 3) / 10} for i, e in enumerate(ENTITIES)]
    refused(
        post(world, f"{path}/outcomes", {"outcomes": [*good[:5], {"entity_id": "x", "value": 1}]}),
        422,
        "never exposed",
    )
    refused(post(world, f"{path}/outcomes", {"outcomes": [{"entity_id": "a", "value": "x"}]}), 422)
    bad_metric = [{"entity_id": ENTITIES[0], "value": 1.0, "metric": "mood"}]
    refused(post(world, f"{path}/outcomes", {"outcomes": bad_metric}), 422, "mood")
    assert analysis(world)["control"]["measured"] == 0

    answer = post(world, f"{path}/outcomes", {"outcomes": good})
    assert answer.status_code == 201, answer.text
    found = analysis(world)
    assert found["control"]["measured"] + found["challenger"]["measured"] == len(ENTITIES)
    assert found["control"]["with_covariate"] == found["control"]["measured"]
    test = found["test"]
    assert test is not None and test["theta"] is not None
    # The outcome is mostly the covariate: CUPED removes most of the variance.
    assert test["variance_reduction"] > 0.3


def test_outcomes_posted_to_v1_outcomes_with_metrics_become_experiment_outcomes(
    world: Any,
) -> None:
    _, _, folder = world
    entities = [f"arm-{i:03d}" for i in range(60)]
    exposed = post(
        world,
        "/v1/experiments/churn-ab/exposures",
        {"exposures": [{"entity_id": e} for e in entities]},
    )
    assert exposed.status_code == 201, exposed.text
    served = datetime.now(UTC) - timedelta(hours=2)
    rows = [
        {
            "id": f"arm-pred-{i}",
            "entity": e,
            "served_at": served,
            "features": {"activity": 1.0},
            "score": 0.5,
            "arm": assign(e, "churn-ab", 0.1),
        }
        for i, e in enumerate(entities)
    ]
    rows.append({**rows[0], "id": "prod-pred", "entity": "never-exposed", "arm": "production"})
    with open_project(folder, environ={}) as lucid:
        lucid.monitoring.log_predictions("churn", 1, rows)
    observed = (served + timedelta(hours=1)).isoformat()

    def outcome(i: int, metrics: dict[str, float]) -> dict[str, Any]:
        return {
            "prediction_id": rows[i]["id"],
            "label": 1,
            "observed_at": observed,
            "metrics": metrics,
        }

    # A metric the experiment does not measure refuses the whole batch: nothing is stored.
    bad = [outcome(i, {"compute_cost_per_day": 400.0}) for i in range(10)]
    bad.append(outcome(10, {"mood": 3.0}))
    answer = post(world, "/v1/outcomes", {"model": "churn", "outcomes": bad})
    refused(answer, 422, "mood")
    with open_project(folder, environ={}) as lucid:
        assert lucid.experiments.status("churn-ab").challenger_guardrail_values == {}
    nan = [{**outcome(0, {}), "metrics": {"compute_cost_per_day": "x"}}]
    refused(post(world, "/v1/outcomes", {"model": "churn", "outcomes": nan}), 422)

    good = [outcome(i, {"compute_cost_per_day": 400.0 + i}) for i in range(len(rows))]
    answer = post(world, "/v1/outcomes", {"model": "churn", "outcomes": good})
    assert answer.status_code == 200, answer.text
    assert answer.json()["logged"] == len(rows)
    # Every exposed entity's value counts; the production prediction's does not.
    assert answer.json()["experiment_outcomes"] == len(entities)
    with open_project(folder, environ={}) as lucid:
        status = lucid.experiments.status("churn-ab")
        values, alpha = status.challenger_guardrail_values, status.design.alpha
    challengers = [i for i, e in enumerate(entities) if assign(e, "churn-ab", 0.1) == CHALLENGER]
    costs = [400.0 + i for i in challengers]
    # A cap is judged on the upper one-sided (1 - alpha) bound of the challenger's mean.
    upper = statistics.fmean(costs) + NormalDist().inv_cdf(1 - alpha) * statistics.stdev(
        costs
    ) / math.sqrt(len(costs))
    assert values["compute_cost_per_day"] == pytest.approx(upper)


def test_a_file_of_outcomes_names_its_metric_columns(world: Any, tmp_path: Path) -> None:
    _, _, folder = world
    entities = [f"file-{i:03d}" for i in range(20)]
    exposed = post(
        world,
        "/v1/experiments/churn-ab/exposures",
        {"exposures": [{"entity_id": e} for e in entities]},
    )
    assert exposed.status_code == 201, exposed.text
    served = datetime.now(UTC) - timedelta(hours=2)
    rows = [
        {
            "id": f"file-pred-{i}",
            "entity": e,
            "served_at": served,
            "features": {"activity": 1.0},
            "score": 0.5,
            "arm": assign(e, "churn-ab", 0.1),
        }
        for i, e in enumerate(entities)
    ]
    observed = (served + timedelta(hours=1)).isoformat()
    path = tmp_path / "outcomes.csv"
    path.write_text(
        "prediction_id,label,observed_at,cost\n"
        + "".join(f"file-pred-{i},1,{observed},{i}\n" for i in range(20))
    )
    with open_project(folder, environ={}) as lucid:
        lucid.monitoring.log_predictions("churn", 1, rows)
        with pytest.raises(InvalidInput, match=r"--metric: .* has no column compute_cost_per_day"):
            lucid.monitoring.log_outcomes_file("churn", path, metrics=["compute_cost_per_day"])
        with pytest.raises(InvalidInput, match="cost"):  # not a metric of the experiment
            lucid.monitoring.log_outcomes_file("churn", path, metrics=["cost"])
        path.write_text(path.read_text().replace(",cost\n", ",compute_cost_per_day\n"))
        report = lucid.monitoring.log_outcomes_file(
            "churn", path, metrics=["compute_cost_per_day"], actor="bi"
        )
    assert (report.logged, report.experiment_outcomes) == (20, 20)
