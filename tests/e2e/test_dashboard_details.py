"""The dashboard's detail pages on a real `lucid serve`: one feature, one incident, one
experiment, a model's "which version served when"; `/` leads to the dashboard, an unknown
id is a 404 page with a sentence, and an incident's steps through its forms are recorded as
the signed-in person (a refused one stores nothing)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from lucid.bootstrap import open_project
from lucid.contracts.semantic import FeatureDefinition
from lucid.features.definition_files import DefinitionSet, load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from tests.contract.test_registry import prove
from tests.e2e.service_world import V1, build_project, served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """The served project, plus: a proposed 2.0.0 of V1 (a 28-day window), three served
    values of V1, churn v2 in production then rolled back to v1, and an incident on churn."""
    folder = tmp_path_factory.mktemp("details") / "shop"
    secrets = build_project(folder)
    with open_project(folder, environ={}) as lucid:
        changed = load_definitions(CANONICAL_DEFINITIONS).features[0].to_dict()
        changed.update(version="2.0.0", window="28d", examples=[])
        lucid.features.apply(
            DefinitionSet(features=[FeatureDefinition.from_dict(changed)]),
            actor="dana",
            rationale="billing month",
        )
        lucid.features.get_online_features(["c00001", "c00002", "c00003"], [V1], log=True)
        prove(lucid.registry, 2)
        lucid.registry.promote("churn", 2, "production", actor="bea", rationale="A/B won")
        lucid.registry.rollback("churn", actor="bea", rationale="complaints doubled")
        if not [i for i in lucid.incidents.list("churn") if i.status.value != "closed"]:
            lucid.incidents.open("churn", summary="complaints", level="warning", actor="sam")
    with served(folder) as (base, _):
        yield base, secrets, folder


@pytest.fixture(scope="module")
def browser(world: Any) -> Iterator[Any]:
    """`browser(role)`: an HTTP client signed in to the dashboard with the role's token (its
    cookie kept), one per role."""
    base, secrets, _ = world
    clients: dict[str, httpx.Client] = {}

    def signed_in(role: str) -> httpx.Client:
        if role not in clients:
            clients[role] = httpx.Client(base_url=base, timeout=30)
            answer = clients[role].post("/dashboard/login", data={"token": secrets[role]})
            assert answer.status_code == 303, answer.text
        return clients[role]

    yield signed_in
    for client in clients.values():
        client.close()


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with `element_id` (tags stripped, spaces collapsed)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no #{element_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_root_leads_to_the_dashboard_and_unknown_ids_are_sentences(
    world: Any, browser: Any
) -> None:
    base = world[0]
    answer = httpx.get(f"{base}/", follow_redirects=False, timeout=30)
    assert answer.status_code == 307 and answer.headers["location"] == "/dashboard"
    client = browser("viewer")
    for path, sentence in (
        ("/dashboard/incidents/nope", "No incident has the id nope."),
        ("/dashboard/experiments/nope", "No experiment named nope exists."),
        ("/dashboard/features/nope", "No feature named nope is stored."),
        ("/dashboard/features/customer_activity_30d?version=9.9.9", "has no version 9.9.9"),
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert sentence in text_of(page.text, "error")


def test_a_feature_page_shows_its_definition_diff_sql_and_serving(world: Any, browser: Any) -> None:
    client = browser("viewer")
    listing = client.get("/dashboard/features").text
    assert 'href="/dashboard/features/customer_activity_30d?version=2.0.0"' in listing
    latest = client.get("/dashboard/features/customer_activity_30d").text
    assert text_of(latest, "status").startswith("proposed")
    diff = text_of(latest, "diff")
    assert "window 30d 28d major" in diff and "owner" not in diff
    first = client.get("/dashboard/features/customer_activity_30d?version=1.0.0").text
    assert "The first version" in first
    assert text_of(first, "approvals").count(" ok") == 3
    assert "marketing mia" in text_of(first, "approvals")
    assert "SELECT" in text_of(first, "sql") and "source_" in text_of(first, "sql")
    assert text_of(first, "served").startswith("3 ")
    assert re.fullmatch(r"\d+\.\d\d % of the values served .*", text_of(first, "skew"))
    assert text_of(first, "materialised").startswith(datetime.now(UTC).strftime("%Y-%m-%d"))


def test_an_incident_page_its_timeline_and_its_steps_as_the_signed_in_person(
    world: Any, browser: Any
) -> None:
    _, _, folder = world
    with open_project(folder, environ={}) as lucid:
        [current] = [i for i in lucid.incidents.list("churn") if i.status.value != "closed"]
    path = f"/dashboard/incidents/{current.id}"
    listing = browser("viewer").get("/dashboard/incidents").text
    assert f'href="{path}"' in listing
    viewer = browser("viewer").get(path).text
    assert 'id="actions"' not in viewer  # a viewer is offered no step
    viewer_token = csrf(viewer)
    shown_to_viewer = browser("viewer").post(f"{path}/acknowledge", data={"csrf": viewer_token})
    assert shown_to_viewer.status_code == 403  # refused on the server too
    assert "needs the scientist role" in text_of(shown_to_viewer.text, "error")
    scientist = browser("scientist")
    page = scientist.get(path).text
    token = csrf(page)
    done = scientist.post(f"{path}/acknowledge", data={"csrf": token})
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=incident"
    # A diagnosis with an unknown root cause: the sentence, nothing stored.
    refused = scientist.post(
        f"{path}/diagnose",
        data={"csrf": token, "root_cause": "gremlins", "details": "x", "participants": "ds"},
    )
    assert refused.status_code == 422
    assert "root_cause: 'gremlins' is not a known root-cause category" in text_of(
        refused.text, "error"
    )
    one = scientist.post(f"{path}/propose", data={"csrf": token, "proposals": "retrain"})
    assert one.status_code == 409 and "needs it to be diagnosed" in text_of(one.text, "error")
    shown = scientist.get(path).text
    assert text_of(shown, "status") == "acknowledged" and "not diagnosed yet" in shown
    with open_project(folder, environ={}) as lucid:
        ours = [
            e
            for kind in ("IncidentAcknowledged", "IncidentDiagnosed", "ProposalsRecorded")
            for e in lucid.events.read(type=kind, limit=1000)
            if e.payload["incident_id"] == current.id
        ]
    assert [(e.type, e.actor) for e in ours] == [("IncidentAcknowledged", "sam")]
    # The timeline: every event about it, oldest first, the acknowledgement last.
    rows = re.findall(r'<tr data-type="(\w+)"><td>(\d+)</td>.*?class="actor">(\w+)<', shown, re.S)
    assert rows[0][0] in ("IncidentOpened", "IncidentReported")
    assert rows[-1][0] == "IncidentAcknowledged" and rows[-1][2] == "sam"
    assert [int(seq) for _, seq, _ in rows] == sorted(int(seq) for _, seq, _ in rows)


def test_an_experiment_page_says_no_exposures_then_draws_its_estimate_by_day(
    world: Any, browser: Any
) -> None:
    _, _, folder = world
    client = browser("viewer")
    listing = client.get("/dashboard/experiments").text
    srm = re.search(r'class="srm [^"]*">([^<]*)<', listing)
    assert srm and srm.group(1) == "no exposures yet: no sample-ratio check without data"
    page = client.get("/dashboard/experiments/churn-ab").text
    assert text_of(page, "srm").startswith("no exposures yet") and "(p 1)" not in page
    assert "no estimate yet" in page
    # Exposures and outcomes on two days: one point per day with its interval.
    entities = [f"c{n:05d}" for n in range(200)]
    with open_project(folder, environ={}) as lucid:
        for day, chosen in ((1, entities[:100]), (2, entities[100:])):
            moment = f"2026-11-0{day}T12:00:00Z"
            lucid.experiments.expose(
                "churn-ab",
                [{"entity_id": e, "exposed_at": moment} for e in chosen],
                actor="ana",
            )
            lucid.experiments.record_outcomes(
                "churn-ab",
                [
                    {"entity_id": e, "value": int(n % 3 > 0), "observed_at": moment}
                    for n, e in enumerate(chosen)
                ],
                actor="bi",
            )
        looks = lucid.experiments.looks("churn-ab")
    assert [day for day, _ in looks] == ["2026-11-01", "2026-11-02"]
    page = client.get("/dashboard/experiments/churn-ab").text
    assert text_of(page, "srm").startswith("as designed (p ")
    chart = re.search(r'<svg[^>]*id="estimate-chart".*?</svg>', page, re.S)
    assert chart and '<g class="axis">' in chart.group(0)
    points = re.findall(r'class="point" data-x="[^"]+" data-y="([^"]+)"', chart.group(0))
    assert [float(y) for y in points] == [look.test.effect for _, look in looks if look.test]


def test_a_model_page_shows_which_version_served_when(world: Any, browser: Any) -> None:
    page = browser("viewer").get("/dashboard/models/churn").text
    table = re.search(r'<table id="served-when">.*?</table>', page, re.S)
    assert table
    rows = re.findall(r'data-version="(\d+)">.*?\((\w+)\)', table.group(0))
    assert rows[:3] == [("1", "promotion"), ("2", "promotion"), ("1", "rollback")]
    assert text_of(page, "served-when").endswith("now")
    chart = re.search(r'<svg[^>]*id="served-chart".*?</svg>', page, re.S)
    assert chart and chart.group(0).count('class="span') == 3
