"""The read endpoints of the HTTP API (models, monitoring runs and policies, alerts,
experiments) on a real `lucid serve`, with their refusals as problem bodies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lucid.bootstrap import open_project
from tests.e2e.service_world import build_project, served


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    folder = tmp_path_factory.mktemp("reads") / "shop"
    secrets = build_project(folder)
    with served(folder) as (base, _):
        yield base, secrets, folder


def get(world: Any, path: str, role: str = "viewer", **params: Any) -> httpx.Response:
    base, secrets, _ = world
    headers = {"Authorization": f"Bearer {secrets[role]}"}
    return httpx.get(f"{base}{path}", headers=headers, params=params, timeout=30)


def refused(answer: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body
    return body


def test_a_model_version_with_its_contract_evidence_observations_and_evaluations(
    world: Any,
) -> None:
    body = get(world, "/v1/models/churn/versions/1").json()
    assert body["stage"] == "production" and body["impact"]["metric"] == "retention_rate"
    [evidence] = body["evidence"]
    assert evidence["metric"] == "retention_rate" and evidence["origin"] == "external"
    assert [(o["metric"], o["value"]) for o in body["observations"]] == [("retention_rate", 0.81)]
    [evaluation] = body["evaluations"]
    assert evaluation["verdict"] == "within_band" and evaluation["evaluated_by"] == "bi"
    assert get(world, "/v1/models/churn/versions/2").json()["evaluations"] == []
    refused(get(world, "/v1/models/nothing/versions/1"), 404, "No model named nothing")
    refused(get(world, "/v1/models/churn/versions/9"), 404, "churn has no version 9")
    assert refused(get(world, "/v1/models/churn/versions/0"), 422)["field"] == "version"
    refused(get(world, "/v1/models/churn/versions/one"), 422)


def post(world: Any, path: str, role: str, body: Any) -> httpx.Response:
    base, secrets, _ = world
    headers = {"Authorization": f"Bearer {secrets[role]}"}
    return httpx.post(f"{base}{path}", headers=headers, json=body, timeout=30)


EXTERNAL = {
    "kind": "predictive",
    "metric": "auc",
    "control": {"name": "churn@1", "sample_size": 5000, "value": 0.78},
    "treatment": {"name": "churn@2", "sample_size": 5000, "value": 0.80},
    "effect": 0.02,
    "ci_low": 0.01,
    "ci_high": 0.03,
    "confidence": 0.95,
    "p_value": 0.001,
    "alpha": 0.05,
    "source": "offline replay, notebook 12",
    "test": "DeLong",
}


def test_external_evidence_over_http_is_checked_whole_and_marked_external(world: Any) -> None:
    path = "/v1/models/churn/versions/2/evidence"
    before = get(world, "/v1/models/churn/versions/2").json()["evidence"]
    body = {"evidence": EXTERNAL, "rationale": "replayed on last month's traffic"}
    refused(post(world, path, "viewer", body), 403, "needs the scientist role")
    wrong = {**EXTERNAL, "p_value": 1.5, "origin": "lucid", "direction": "lower"}
    said = refused(post(world, path, "scientist", {**body, "evidence": wrong}), 422)["detail"]
    assert "evidence: 3 problems:" in said and "evidence.origin: is set by Lucid" in said
    assert "evidence.p_value: must be between 0 and 1, not 1.5" in said
    assert "evidence.direction: auc is higher-is-better, not lower" in said
    refused(post(world, path, "scientist", {**body, "why": "x"}), 422, "why")
    assert get(world, "/v1/models/churn/versions/2").json()["evidence"] == before
    attached = post(world, path, "scientist", body)
    assert attached.status_code == 201, attached.text
    [record] = [e for e in attached.json()["evidence"] if e["kind"] == "predictive"]
    assert record["origin"] == "external" and record["direction"] == "higher"
    assert record["produced_at"] is None and len(record["digest"]) == 64


def test_observations_of_a_model(world: Any) -> None:
    [observed] = get(world, "/v1/models/churn/observations").json()
    assert observed["version"] == 1 and observed["period"] == "2026-10"
    assert get(world, "/v1/models/churn/observations", version=2).json() == []
    refused(get(world, "/v1/models/nothing/observations"), 404, "No model named nothing")
    refused(get(world, "/v1/models/churn/observations", version=7), 404, "no version 7")


def test_monitoring_runs_page_with_a_cursor_and_show_every_check(world: Any) -> None:
    first = get(world, "/v1/monitoring/runs", limit=1).json()
    assert len(first["runs"]) == 1 and first["next_cursor"]
    second = get(world, "/v1/monitoring/runs", limit=1, cursor=first["next_cursor"]).json()
    assert len(second["runs"]) == 1
    newest, oldest = first["runs"][0], second["runs"][0]
    assert newest["window"].startswith("2026-11-02") and oldest["window"].startswith("2026-11-01")
    last = get(world, "/v1/monitoring/runs", limit=1, cursor=second["next_cursor"]).json()
    assert last == {"runs": [], "next_cursor": None}
    assert get(world, "/v1/monitoring/runs", model="other").json()["runs"] == []
    both = get(world, "/v1/monitoring/runs", model="churn").json()
    assert [r["id"] for r in both["runs"]] == [newest["id"], oldest["id"]]
    assert both["next_cursor"] is None

    shown = get(world, f"/v1/monitoring/runs/{newest['id']}").json()
    assert shown == newest
    checks = {(c["metric"], c["feature"]): c for c in shown["checks"]}
    tenure = checks[("psi", "tenure")]
    assert tenure["level"] == "critical" and tenure["value"] > tenure["critical"] == 0.2
    assert checks[("psi", "activity")]["level"] == "ok"  # every check, not only the failing
    # a failing check says what moved: the bins, their shares and terms of PSI, in one line
    moved = tenure["details"]["moved"]
    assert moved and moved[0]["current_share"] != moved[0]["reference_share"]
    assert moved[0]["bin"] in tenure["what_moved"] and "moved most" in tenure["what_moved"]
    assert {"pvalue", "adjusted_pvalue"} <= set(tenure)
    assert checks[("psi", "activity")]["what_moved"] is None
    assert shown["level"] == "critical" and "retrain" in shown["actions"]

    refused(get(world, "/v1/monitoring/runs/no-such-run"), 404, "no-such-run")
    bad = refused(get(world, "/v1/monitoring/runs", cursor="not a cursor"), 422, "next_cursor")
    assert bad["field"] == "cursor"
    assert refused(get(world, "/v1/monitoring/runs", limit=0), 422)["field"] == "limit"
    assert refused(get(world, "/v1/monitoring/runs", limit=501), 422)["field"] == "limit"


def test_the_monitoring_policy_of_a_model(world: Any) -> None:
    policy = get(world, "/v1/monitoring/policies/churn").json()
    assert policy["model"] == "churn" and policy["stored"] is True  # the churn template, adopted
    psi = next(t for t in policy["thresholds"] if t["metric"] == "psi")
    assert (psi["warning"], psi["critical"]) == (0.1, 0.2)
    refused(get(world, "/v1/monitoring/policies/nothing"), 404, "No model named nothing")


def test_experiments_with_design_status_and_sample_ratio(world: Any) -> None:
    [summary] = get(world, "/v1/experiments").json()
    assert summary["id"] == "churn-ab" and summary["status"] == "running"
    shown = get(world, "/v1/experiments/churn-ab").json()
    assert shown["design"]["challenger_share"] == 0.1 and shown["design"]["metric"]
    analysis = shown["analysis"]
    assert analysis["decision"] == "collecting" and analysis["test"] is None
    assert analysis["sample_ratio"]["expected_challenger_share"] == 0.1
    assert analysis["minimum_sample"]["challenger"] > 0
    refused(get(world, "/v1/experiments/no-such-test"), 404, "no-such-test")


def test_unknown_routes_and_methods_are_problem_bodies(world: Any) -> None:
    refused(get(world, "/v1/nothing/here"), 404, "No route matches")
    base, secrets, _ = world
    wrong = httpx.delete(
        f"{base}/v1/alerts", headers={"Authorization": f"Bearer {secrets['admin']}"}
    )
    refused(wrong, 405, "does not take this method")


def test_every_operation_documents_problem_bodies_as_its_errors(world: Any) -> None:
    base, _, _ = world
    spec = httpx.get(f"{base}/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert len(operations) > 20
    for operation in operations:
        errors = operation["responses"]["4XX"]["content"]
        assert list(errors) == ["application/problem+json"]
        assert "422" not in operation["responses"]  # no FastAPI default error shape


def test_acknowledging_an_alert_needs_a_scientist_and_happens_once(world: Any) -> None:
    base, secrets, folder = world
    [alert] = get(world, "/v1/alerts", model="churn").json()
    assert alert["acknowledged_by"] is None and alert["target"] == "data_team"
    assert get(world, "/v1/alerts", model="other").json() == []

    def ack(alert_id: str, role: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {secrets[role]}"}
        return httpx.post(f"{base}/v1/alerts/{alert_id}/ack", headers=headers, timeout=30)

    refused(ack(alert["id"], "viewer"), 403, "needs the scientist role")
    assert get(world, "/v1/alerts").json()[0]["acknowledged_by"] is None  # nothing changed
    taken = ack(alert["id"], "scientist")
    assert taken.status_code == 200, taken.text
    assert taken.json()["acknowledged_by"] == "sam" and taken.json()["acknowledged_at"]
    refused(ack(alert["id"], "scientist"), 409, "already acknowledged by sam")
    refused(ack("no-such-alert", "scientist"), 404, "no-such-alert")
    with open_project(folder, environ={}) as lucid:
        [event] = lucid.events.read(type="AlertAcknowledged", limit=10)
    assert event.actor == "sam" and event.payload["alert_id"] == alert["id"]
