"""A version served by the team's own system: registered and promoted on its evidence, its
predictions and outcomes logged over HTTP on a real loopback server, and monitored as
Lucid's own predictions are; Lucid never serves it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lucid.bootstrap import open_project
from lucid.errors import Conflict
from lucid.registry.model_artifacts import ExternalArtifact
from lucid.storage.tables import prediction_log
from tests.contract.test_registry import prove, retention
from tests.e2e.service_world import build_project, served, server_log
from tests.monitoring_world import DAY1, DAY2, DAY3, Clock, adopt_churn_policy, prediction_rows

SERVICE = "https://churn.shop.internal"


def logged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Predictions as the serving system sends them: what the model used, as `inputs`."""
    return [
        {
            "entity_id": row["entity"],
            "version": 3,
            "served_at": row["served_at"].isoformat(),
            "score": row["score"],
            "inputs": row["features"],
        }
        for row in rows
    ]


def stored_predictions(folder: Path) -> int:
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(prediction_log)).scalar_one())


@pytest.mark.slow
def test_a_version_served_elsewhere_goes_through_the_gate_and_the_monitoring_loop(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shop"
    secrets = build_project(folder, monitored=False)
    with open_project(folder, environ={}) as lucid:
        version = lucid.registry.register_model(
            "churn",
            artifact=ExternalArtifact(SERVICE),
            impact=retention(),
            features=[],
            training_data="sha256:ext",
            offline_metrics={"auc": 0.83},
            registered_by="ana",
            rationale="trained and served by the checkout team",
        )
        assert (version.version, version.artifact.sha256) == (3, None)
        prove(lucid.registry, 3)
        lucid.registry.promote("churn", 3, "challenger", actor="ana", rationale="A/B")
        lucid.registry.promote("churn", 3, "production", actor="ana", rationale="A/B won")
        with pytest.raises(Conflict, match=f"served by {SERVICE}, not by Lucid"):
            lucid.registry.load_model("churn")
    reference, _ = prediction_rows(DAY1, 600, seed=1)
    current, outcomes = prediction_rows(DAY2, 600, seed=2, tenure_shift_sd=0.6)
    service = {"Authorization": f"Bearer {secrets['service']}"}
    viewer = {"Authorization": f"Bearer {secrets['viewer']}"}
    with served(folder) as (base, _):
        url = f"{base}/v1/predictions/churn"
        good = logged(reference + current)
        small = {"entity_id": "c", "version": 3, "served_at": "2026-11-01", "score": 0.5}
        refused = [
            (service, {"predictions": [{**good[0], "score": 1.5}]}, 422, "score"),
            (service, {"predictions": [{**good[0], "inputs": {"score": 1}}]}, 422, "reserved"),
            (
                service,
                {"predictions": [good[0], {**good[1], "served_at": "yesterday"}]},
                422,
                "served_at",
            ),
            (service, {"predictions": [small] * 10_001}, 422, "predictions"),
            (service, {"predictions": [small, {**small, "version": 9}]}, 404, "version 9"),
            (viewer, {"predictions": good[:1]}, 403, "scientist or service role"),
        ]
        for headers, body, status, sentence in refused:
            answer = httpx.post(url, json=body, headers=headers, timeout=30)
            assert answer.status_code == status, answer.text
            assert sentence in answer.json()["detail"]
        assert stored_predictions(folder) == 0
        answer = httpx.post(url, json={"predictions": good}, headers=service, timeout=60)
        assert answer.status_code == 201, server_log(folder)
        ids = answer.json()["prediction_ids"]
        assert len(ids) == 1200 and len(set(ids)) == 1200
        truth = [
            {"prediction_id": i, "label": o["label"], "observed_at": o["observed_at"].isoformat()}
            for i, o in zip(ids[600:], outcomes, strict=True)
        ]
        answer = httpx.post(
            f"{base}/v1/outcomes",
            json={"model": "churn", "outcomes": truth},
            headers=service,
            timeout=60,
        )
        assert answer.status_code == 200 and answer.json()["logged"] == 600, answer.text
        answer = httpx.post(
            f"{base}/v1/predict/churn", json={"entity_id": "c00001"}, headers=service, timeout=30
        )
        assert answer.status_code == 409 and SERVICE in answer.json()["detail"], answer.text
    with open_project(folder, environ={}) as lucid:
        lucid.clock = Clock(DAY3 + timedelta(hours=2))
        lucid.monitoring.build_profile("churn", 3, start=DAY1, end=DAY2)
        adopt_churn_policy(lucid.monitoring)
        report = lucid.monitoring.run("churn", start=DAY2, end=DAY3)
    assert report.created and str(report.record.version) == "3"
    tenure = next(check for check in report.record.checks if check["feature"] == "tenure")
    assert report.record.level == tenure["level"] == "critical" and report.alerts
