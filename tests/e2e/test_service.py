"""The HTTP service as a real uvicorn server on loopback, called with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import select

from lucid.bootstrap import open_project
from lucid.contracts.times import EXAMPLE
from lucid.contracts.value import Override
from lucid.features.definition_files import load_definitions
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from lucid.storage.tables import outcome_log
from tests.conftest import run_lucid
from tests.contract.test_registry import prove, retention
from tests.e2e.browser import chromium
from tests.e2e.service_world import served

V1, SPEND = "customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A project with approved features, a production churn model and four tokens."""
    folder = tmp_path_factory.mktemp("service") / "shop"
    assert run_lucid("init", str(folder)).code == 0
    (folder / "lucid.yaml").write_text((folder / "lucid.yaml").read_text() + "approvers: [bea]\n")
    write_sample_activity(folder)
    with open_project(folder, environ={}) as lucid:
        lucid.features.apply(load_definitions(CANONICAL_DEFINITIONS), actor="dana", rationale="r")
        lucid.features.apply(load_definitions(SPEND_DEFINITIONS), actor="dana", rationale="r")
        for ref in (V1, SPEND):
            for team, person in (
                ("marketing", "mia"),
                ("data-science", "sam"),
                ("product", "paul"),
            ):
                lucid.features.approve(ref, team=team, person=person, rationale="ok")
        model = LogisticRegression().fit(
            [[0.0, 0.0], [0.9, 80.0], [0.1, 5.0], [0.8, 60.0]], [1, 0, 1, 0]
        )
        lucid.registry.register_model(
            "churn",
            artifact=SklearnArtifact(estimator=model),
            impact=retention(),
            features=[V1, SPEND],
            training_data="sha256:1",
            offline_metrics={"auc": 0.8},
            registered_by="ana",
            rationale="first model",
        )
        prove(lucid.registry, 1)
        lucid.registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
        lucid.registry.promote(
            "churn",
            1,
            "production",
            actor="ana",
            rationale="first",
            override=Override("bea", "first version: nothing serves production to test against"),
        )
        lucid.features.materialize()
        tokens = lucid.tokens
        secrets = {
            name: tokens.create(
                person=person, role=role, teams=teams, actor="admin", rationale="test"
            )[1]
            for name, person, role, teams in (
                ("viewer", "vic", "viewer", []),
                ("scientist", "sam", "scientist", []),
                ("approver", "mia", "approver", ["marketing"]),
                ("proposer", "dana", "approver", ["marketing"]),
                ("admin", "ada", "admin", []),
                ("revoked", "rex", "admin", []),
                ("service", "checkout", "service", []),
            )
        }
        revoked_id = next(t["id"] for t in tokens.list() if t["person"] == "rex")
        tokens.revoke(revoked_id, actor="admin", rationale="left the company")
    return folder, secrets


@pytest.fixture(scope="module")
def server(project: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with served(project[0], workers=2) as (base, _):
        yield base


def call(base: str, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{base}{path}", headers=headers, timeout=30, **kwargs)


def test_operations_endpoints(server: str) -> None:
    assert httpx.get(f"{server}/readyz").json() == {"status": "ready"}
    spec = httpx.get(f"{server}/openapi.json").json()
    assert "/v1/predict/{model}" in spec["paths"] and "/v1/events" in spec["paths"]


def test_no_token_or_a_revoked_one_is_401(server: str, project: Any) -> None:
    _, secrets = project
    missing = call(server, "GET", "/v1/events", None)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert "Bearer" in missing.json()["detail"]
    revoked = call(server, "GET", "/v1/events", secrets["revoked"])
    assert revoked.status_code == 401 and "was revoked" in revoked.json()["detail"]


def test_events_page_with_a_cursor_and_verify(server: str, project: Any) -> None:
    token = project[1]["viewer"]
    first = call(server, "GET", "/v1/events?limit=5", token).json()
    second = call(server, "GET", f"/v1/events?limit=5&after={first['next_cursor']}", token).json()
    assert [e["seq"] for e in first["events"] + second["events"]] == list(range(1, 11))
    assert call(server, "GET", "/v1/events/verify", token).json()["ok"] is True


def test_predict_reads_features_online_and_counts_predictions(server: str, project: Any) -> None:
    viewer = call(
        server, "POST", "/v1/predict/churn", project[1]["viewer"], json={"entity_id": "c1"}
    )
    assert viewer.status_code == 403
    assert viewer.json()["detail"] == (
        "vic is a viewer; predicting with churn (each prediction is logged) needs the scientist "
        "or service role."
    )
    token = project[1]["service"]
    answer = call(server, "POST", "/v1/predict/churn", token, json={"entity_id": "c00001"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 1 and body["arm"] == "production" and body["prediction"] in (0, 1)
    metrics = httpx.get(f"{server}/metrics").text
    assert "lucid_http_requests_total" in metrics
    assert 'lucid_predictions_total{arm="production",model="churn",version="1"}' in metrics
    outcome = {
        "model": "churn",
        "outcomes": [
            {
                "prediction_id": body["prediction_id"],
                "label": 1,
                "observed_at": "2030-01-01T00:00:00Z",
            }
        ],
    }
    denied = call(server, "POST", "/v1/outcomes", project[1]["viewer"], json=outcome)
    assert denied.status_code == 403
    logged = call(server, "POST", "/v1/outcomes", token, json=outcome)  # a service logs them
    assert logged.status_code == 200, logged.text
    assert logged.json()["logged"] == 1
    outcome["outcomes"][0]["label"] = 2
    bad_label = call(server, "POST", "/v1/outcomes", project[1]["scientist"], json=outcome)
    assert bad_label.status_code == 422 and bad_label.json()["field"] == "outcomes.0.label"
    unknown = call(server, "POST", "/v1/predict/nothing", token, json={"entity_id": "c1"})
    assert unknown.status_code == 404
    bad = call(server, "POST", "/v1/predict/churn", token, json={"entity": "c1"})
    assert bad.status_code == 422 and bad.json()["field"] == "entity_id"


def test_outcome_times_without_offset_are_utc_and_offsets_are_honoured(
    server: str, project: Any
) -> None:
    folder, secrets = project
    ids = [
        call(server, "POST", "/v1/predict/churn", secrets["service"], json={"entity_id": e}).json()[
            "prediction_id"
        ]
        for e in ("c00002", "c00003")
    ]
    given = ["2030-01-02T05:30:00", "2030-01-02T11:00:00+05:30"]
    outcomes = [
        {"prediction_id": i, "label": 1, "observed_at": t} for i, t in zip(ids, given, strict=True)
    ]
    logged = call(
        server,
        "POST",
        "/v1/outcomes",
        secrets["scientist"],
        json={"model": "churn", "outcomes": outcomes},
    )
    assert logged.status_code == 200, logged.text
    with open_project(folder, environ={}) as lucid, lucid.db.transaction() as connection:
        stored = connection.execute(
            select(outcome_log.c.observed_at).where(outcome_log.c.prediction_id.in_(ids))
        ).scalars()
        assert list(stored) == ["2030-01-02T05:30:00.000000Z"] * 2
    outcomes[0]["observed_at"] = "yesterday"
    bad = call(
        server,
        "POST",
        "/v1/outcomes",
        secrets["scientist"],
        json={"model": "churn", "outcomes": outcomes},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "outcomes.0.observed_at"
    assert bad.json()["detail"] == (
        f"outcomes.0.observed_at: 'yesterday' (text) is not a time; write ISO 8601, e.g. {EXAMPLE}"
    )


def test_roles_and_four_eyes_hold_over_http(server: str, project: Any) -> None:
    folder, secrets = project
    with open_project(folder, environ={}) as lucid:
        data = load_definitions(CANONICAL_DEFINITIONS)
        changed = data.features[0].to_dict()
        changed.update(version="2.0.0", window="28d", examples=[])
        from lucid.contracts.semantic import FeatureDefinition
        from lucid.features.definition_files import DefinitionSet

        lucid.features.apply(
            DefinitionSet(features=[FeatureDefinition.from_dict(changed)]),
            actor="dana",
            rationale="billing month",
        )
    path = "/v1/features/customer_activity_30d@2.0.0/approvals"
    approval = {"team": "marketing", "rationale": "reviewed"}
    viewer = call(server, "POST", path, secrets["viewer"], json=approval)
    assert viewer.status_code == 403 and "needs the approver role" in viewer.json()["detail"]
    wrong_team = call(
        server, "POST", path, secrets["approver"], json={"team": "product", "rationale": "r"}
    )
    assert wrong_team.status_code == 403 and "not for team product" in wrong_team.json()["detail"]
    own = call(server, "POST", path, secrets["proposer"], json=approval)
    assert own.status_code == 403 and "nobody approves their own change" in own.json()["detail"]
    done = call(server, "POST", path, secrets["approver"], json=approval)
    assert done.status_code == 201 and done.json()["approvals"] == [
        {"team": "marketing", "person": "mia"}
    ]
    again = call(server, "POST", path, secrets["approver"], json=approval)
    assert again.status_code == 409
    promote = call(
        server,
        "POST",
        "/v1/models/churn/versions/1/promotions",
        secrets["scientist"],
        json={"to": "production", "rationale": "now"},
    )
    assert promote.status_code == 403
    events = call(
        server, "GET", "/v1/events?type=FeatureApprovalGiven&limit=1000", secrets["viewer"]
    ).json()["events"]
    assert events[-1]["actor"] == "mia"


def test_the_dashboard_in_a_real_browser(server: str, project: Any) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{server}/dashboard")
        assert page.title() == "Sign in — Lucid"  # redirected: reading needs a token
        page.fill("#token", "lucid_nothing_here")
        page.click("#sign-in")
        assert "the token is not known" in page.inner_text("#error")
        page.fill("#token", project[1]["viewer"])
        page.click("#sign-in")
        page.wait_for_url(f"{server}/dashboard")
        assert page.inner_text("#chain b") == "verified"
        assert page.inner_text("#contradictions b") == "0"
        assert page.inner_text("#production-models b") == "1"
        assert "FeatureApprovalGiven" in page.inner_text("#latest")
        page.goto(f"{server}/dashboard/features")
        definitions = page.inner_text("#definitions")
        assert "customer_activity_30d@1.0.0" in definitions and "approved" in definitions
        page.goto(f"{server}/dashboard/models")
        listed = page.inner_text("#models")
        assert "v1" in listed and "retention_rate" in listed
        page.goto(f"{server}/dashboard/models/churn")
        versions = page.inner_text("#versions")
        assert "production" in versions and "customer_activity_30d@1.0.0" in versions
        page.goto(f"{server}/dashboard/events")
        assert page.locator("#events tr").count() > 10


def test_predict_routes_by_the_running_experiment(server: str, project: Any) -> None:
    """Last in this module: it starts an A/B test of a challenger on half the traffic."""
    from lucid.contracts.experiments import assign

    folder, secrets = project
    with open_project(folder, environ={}) as lucid:
        model = LogisticRegression().fit([[0.0, 0.0], [0.9, 80.0]], [1, 0])
        lucid.registry.register_model(
            "churn",
            artifact=SklearnArtifact(estimator=model),
            impact=retention(),
            features=[V1, SPEND],
            training_data="sha256:2",
            offline_metrics={"auc": 0.82},
            registered_by="ana",
            rationale="retrained",
        )
        lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
        lucid.experiments.create(
            "churn-ab",
            model="churn",
            challenger=2,
            minimum_detectable_effect=0.05,
            actor="ana",
            rationale="does v2 keep more customers?",
            challenger_share=0.5,
        )
    entities = [f"c{n:05d}" for n in range(12)]
    arms = {}
    for entity in entities:
        answer = call(
            server, "POST", "/v1/predict/churn", secrets["scientist"], json={"entity_id": entity}
        )
        assert answer.status_code == 200, answer.text
        arms[entity] = (answer.json()["arm"], answer.json()["version"])
    expected = {e: assign(e, "churn-ab", 0.5) for e in entities}
    assert {e: arm for e, (arm, _) in arms.items()} == expected
    assert {version for arm, version in arms.values() if arm == "challenger"} <= {2}
    assert {version for arm, version in arms.values() if arm == "control"} <= {1}
    assert set(expected.values()) == {"control", "challenger"}
    with open_project(folder, environ={}) as lucid:
        status = lucid.experiments.status("churn-ab")
    assert status.control.exposed + status.challenger.exposed == len(entities)
    more = [f"c{n:05d}" for n in range(12, 40)]
    batch = call(
        server,
        "POST",
        "/v1/predict/churn",
        secrets["scientist"],
        json={"entities": [{"entity_id": entity} for entity in more]},
    )
    assert batch.status_code == 200, batch.text
    answers = batch.json()["predictions"]
    assert [a["entity_id"] for a in answers] == more  # in request order, both arms mixed
    assert [a["arm"] for a in answers] == [assign(e, "churn-ab", 0.5) for e in more]
    assert all(a["version"] == (2 if a["arm"] == "challenger" else 1) for a in answers)
    with open_project(folder, environ={}) as lucid:
        status = lucid.experiments.status("churn-ab")
    assert status.control.exposed + status.challenger.exposed == len(entities) + len(more)
