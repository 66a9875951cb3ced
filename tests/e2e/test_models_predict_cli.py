"""`lucid models predict`, the offline twin of `POST /v1/predict`: a file of entities scored
as the API scores them (routed, request-time inputs checked, features read online), logged as
the API logs, written to Parquet; a bad file is refused with a sentence, nothing logged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select

from lucid.bootstrap import open_project
from lucid.storage.tables import experiment_exposures, prediction_log, served_features
from tests.conftest import run_lucid
from tests.e2e.service_world import build_project
from tests.e2e.test_serving import register_fraud

ENTITIES = [f"c{n:05d}" for n in range(1, 41)]
COLUMNS = ["customer_activity_30d", "customer_spend_30d", "amount", "web"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LogisticRegression]]:
    folder = tmp_path_factory.mktemp("batch") / "project"
    build_project(folder, monitored=False)
    model = register_fraud(folder)
    with open_project(folder, environ={}) as lucid:
        lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
        lucid.experiments.create(
            "churn-ab",
            model="churn",
            challenger=2,
            minimum_detectable_effect=0.05,
            actor="ana",
            rationale="does v2 keep more customers?",
        )
    yield folder, model


def counted(folder: Path) -> tuple[int, int, int]:
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        return tuple(  # type: ignore[return-value]
            int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (prediction_log, served_features, experiment_exposures)
        )


def score(folder: Path, *args: str) -> Any:
    return run_lucid("--project", str(folder), "models", "predict", *args)


def test_a_file_is_scored_as_the_api_scores_it_and_logged(world: Any, tmp_path: Path) -> None:
    folder, model = world
    entities = tmp_path / "entities.csv"
    pd.DataFrame(
        {
            "entity_id": ENTITIES,
            "amount": [25.0 * n for n in range(40)],
            "web": [n % 3 == 0 for n in range(40)],
        }
    ).to_csv(entities, index=False)
    before = counted(folder)
    out = tmp_path / "scored.parquet"
    run = score(folder, "fraud", "--entities", str(entities), "--out", str(out))
    assert run.code == 0, run.stderr
    assert "Scored 40 entities of entities.csv with fraud" in run.stdout
    scored = pd.read_parquet(out)
    fixed = ["entity_id", "model", "version", "arm", "prediction", "score", "prediction_id"]
    assert list(scored.columns[:7]) == fixed and set(scored.columns[7:]) == set(COLUMNS)
    assert scored["entity_id"].tolist() == ENTITIES
    assert set(scored["arm"]) == {"production"} and set(scored["model"]) == {"fraud"}
    expected = model.predict_proba(scored[COLUMNS])[:, 1]
    assert scored["score"].tolist() == pytest.approx(expected.tolist(), abs=1e-9)
    assert counted(folder) == (before[0] + 40, before[1] + 80, before[2])
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        logged = dict(
            connection.execute(
                select(prediction_log.c.id, prediction_log.c.features).where(
                    prediction_log.c.id.in_(scored["prediction_id"].tolist())
                )
            ).all()
        )
    first = scored.iloc[3]
    assert json.loads(logged[first["prediction_id"]]) == {
        "customer_activity_30d": first["customer_activity_30d"],
        "customer_spend_30d": first["customer_spend_30d"],
        "amount": 75.0,
        "web": True,
    }


def test_under_a_running_experiment_each_entity_gets_its_arm_and_is_exposed(
    world: Any, tmp_path: Path
) -> None:
    folder, _ = world
    entities = tmp_path / "entities.parquet"
    pd.DataFrame({"entity_id": ENTITIES}).to_parquet(entities)
    before = counted(folder)
    out = tmp_path / "churn.parquet"
    run = score(folder, "churn", "--entities", str(entities), "--out", str(out), "--as", "ana")
    assert run.code == 0, run.stderr
    scored = pd.read_parquet(out)
    assert set(scored["arm"]) == {"control", "challenger"}
    assert all((scored["arm"] == "challenger") == (scored["version"] == 2))
    assert counted(folder) == (before[0] + 40, before[1] + 80, before[2] + 40)
    pinned = score(
        folder, "churn", "--entities", str(entities), "--out", str(out), "--version", "1"
    )
    assert pinned.code == 0, pinned.stderr
    assert set(pd.read_parquet(out)["arm"]) == {"production"}


@pytest.mark.parametrize(
    ("rows", "sentence"),
    [
        (
            "entity_id,amount,web\nc00001,10,true\nc00002,12,true\nc00003,abc,false\n",
            "--entities: row 3 of bad.csv, column amount: must be a number in [0, 10000], not "
            "the text 'abc'; nothing was scored",
        ),
        (
            "entity_id,amount,web\nc00001,10,true\nc00002,,true\n",
            "--entities: row 2 of bad.csv, column amount: is required (a number in [0, 10000])",
        ),
        (
            "entity_id,amount,web,tip\nc00001,10,true,1\n",
            "--entities: row 1 of bad.csv, column tip: is not a request-time input",
        ),
        ("customer,amount\nc00001,10\n", "--entities: "),
        ("entity_id,amount,web\nc99999,10,true\n", "customer 'c99999' is not known"),
    ],
    ids=["wrong-type", "missing", "undeclared", "no-entity-column", "unknown-entity"],
)
def test_a_bad_file_is_refused_with_a_sentence_and_nothing_is_logged(
    world: Any, tmp_path: Path, rows: str, sentence: str
) -> None:
    folder, _ = world
    entities = tmp_path / "bad.csv"
    entities.write_text(rows)
    before = counted(folder)
    out = tmp_path / "never.parquet"
    run = score(folder, "fraud", "--entities", str(entities), "--out", str(out))
    assert run.code != 0
    assert sentence in " ".join(run.stderr.split()), run.stderr
    assert counted(folder) == before and not out.exists()


def test_bad_options_are_refused(world: Any, tmp_path: Path) -> None:
    folder, _ = world
    missing = score(folder, "fraud", "--entities", str(tmp_path / "no.csv"), "--out", "x.parquet")
    assert missing.code != 0 and "does not exist" in missing.stderr
    entities = tmp_path / "e.csv"
    entities.write_text("entity_id\nc00001\n")
    csv_out = score(folder, "fraud", "--entities", str(entities), "--out", str(tmp_path / "o.csv"))
    assert csv_out.code != 0 and "must be a .parquet file" in csv_out.stderr
    nobody = score(
        folder, "ghost", "--entities", str(entities), "--out", str(tmp_path / "o.parquet")
    )
    assert nobody.code != 0 and "ghost" in nobody.stderr
