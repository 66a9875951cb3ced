"""A team deployment: two `lucid serve` processes sharing PostgreSQL and Redis, configured by
settings only, writing at the same time — approvals, promotions and the hash chain stay whole."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select

from lucid.bootstrap import open_project
from lucid.contracts.semantic import FeatureDefinition
from lucid.features.definition_files import DefinitionSet, load_definitions
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.tables import prediction_log
from tests.conftest import REDIS_URL, run_lucid
from tests.contract.test_registry import prove, retention
from tests.e2e.service_world import free_port

TEAMS = ("marketing", "data-science", "product")


@pytest.fixture
def team(tmp_path: Path, postgres_schema: str) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """A project whose metadata is on PostgreSQL and online store on Redis, by environment."""
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    config = folder / "lucid.yaml"
    config.write_text(config.read_text() + "approvers: [marketing-lead]\n")  # first version
    environ = {
        "LUCID_DATABASE_URL": postgres_schema,
        "LUCID_ONLINE_STORE_URL": REDIS_URL,
        "LUCID_PROJECT": str(folder),
    }
    db = Database(postgres_schema)
    schema.upgrade(db)
    db.dispose()
    write_sample_activity(folder)
    definitions = load_definitions(CANONICAL_DEFINITIONS)
    base = definitions.features[0].to_dict()
    with open_project(folder, environ=environ) as lucid:
        lucid.features.apply(definitions, actor="dana", rationale="seed")
        for number in range(1, 7):  # six proposals for the two servers to approve
            variant = {**base, "name": f"activity_v{number}", "concept": f"activity_{number}"}
            lucid.features.apply(
                DefinitionSet(features=[FeatureDefinition.from_dict(variant)]),
                actor="dana",
                rationale="variant",
            )
        for team_name, person in zip(TEAMS, ("mia", "sam", "paul"), strict=True):
            lucid.features.approve(
                "customer_activity_30d@1.0.0", team=team_name, person=person, rationale="canonical"
            )
        model = LogisticRegression().fit([[0.0], [0.9], [0.1], [0.8]], [1, 0, 1, 0])
        lucid.registry.register_model(
            "churn",
            artifact=SklearnArtifact(estimator=model),
            impact=retention(),
            features=["customer_activity_30d@1.0.0"],
            training_data="sha256:1",
            offline_metrics={"auc": 0.8},
            registered_by="ana",
            rationale="first model",
        )
        prove(lucid.registry, 1)
        lucid.registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
        lucid.features.materialize()  # into Redis, for the predictions
        tokens = lucid.tokens
        secrets = {
            team: tokens.create(
                person=f"{team}-lead",
                role="approver",
                teams=[team],
                actor="admin",
                rationale="team lead",
            )[1]
            for team in TEAMS
        }
    yield environ, secrets
    with open_project(folder, environ=environ) as lucid:
        lucid.online_store.clear()


def start(environ: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lucid", "serve", "--port", str(port)],
        env={**os.environ, **environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("a server did not start")


def test_two_servers_write_at_once_and_the_story_stays_consistent(team: Any) -> None:
    environ, secrets = team
    servers = [start(environ), start(environ)]
    try:
        bases = [base for _, base in servers]

        def approve(job: tuple[int, str, str]) -> int:
            index, feature, team_name = job
            response = httpx.post(
                f"{bases[index % 2]}/v1/features/{feature}@1.0.0/approvals",
                headers={"Authorization": f"Bearer {secrets[team_name]}"},
                json={"team": team_name, "rationale": "reviewed"},
                timeout=60,
            )
            return response.status_code

        jobs = [
            (index, f"activity_v{number}", team_name)
            for index, (number, team_name) in enumerate(
                (number, team_name) for number in range(1, 7) for team_name in TEAMS
            )
        ]
        # every approval twice, once per server: exactly one of each pair may succeed
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(approve, jobs + [(i + 1, f, t) for i, f, t in jobs]))
        assert statuses.count(201) == len(jobs)
        assert statuses.count(409) == len(jobs)
        token = secrets["marketing"]
        verdict = httpx.get(
            f"{bases[1]}/v1/events/verify", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ).json()
        assert verdict["ok"] is True, verdict
        features = httpx.get(
            f"{bases[0]}/v1/features", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ).json()
        variants = [f for f in features if f["name"].startswith("activity_v")]
        assert len(variants) == 6 and all(f["status"] == "approved" for f in variants)
        assert all(len(f["approvals"]) == 3 for f in variants)

        def promote(base: str) -> int:
            return httpx.post(
                f"{base}/v1/models/churn/versions/1/promotions",
                headers={"Authorization": f"Bearer {token}"},
                json={"to": "production", "rationale": "first model", "override": True},
                timeout=60,
            ).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert sorted(pool.map(promote, bases)) == [201, 409]
        history = httpx.get(
            f"{bases[1]}/v1/models/churn/history",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
        promotions = httpx.get(
            f"{bases[0]}/v1/events?type=ModelPromoted&limit=100",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
        assert [e["payload"]["to_stage"] for e in promotions["events"]].count("production") == 1
        assert history

        # Predictions on both servers: features from Redis, each answer's log committed on
        # PostgreSQL before the answer (the journal's commits run on a thread there).
        def predict(index: int) -> httpx.Response:
            return httpx.post(
                f"{bases[index % 2]}/v1/predict/churn",
                headers={"Authorization": f"Bearer {token}"},
                json={"entity_id": f"c{index % 20 + 1:05d}"},
                timeout=60,
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(predict, range(60)))
        assert {(a.status_code, a.json()["version"]) for a in answers} == {(200, 1)}
        db = Database(environ["LUCID_DATABASE_URL"])
        try:
            with db.transaction() as connection:
                logged = connection.execute(
                    select(func.count())
                    .select_from(prediction_log)
                    .where(prediction_log.c.id.in_([a.json()["prediction_id"] for a in answers]))
                ).scalar_one()
        finally:
            db.dispose()
        assert logged == len(answers)
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)
