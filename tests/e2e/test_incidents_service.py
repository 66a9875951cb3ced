"""Incidents and the scorecard over HTTP, through a real uvicorn server: roles refused where
they must be, problem details for every refusal, and the dashboard page."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.test_service import call, project, server  # noqa: F401  (module fixtures)


def problem(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert detail in body["detail"]
    return body


def test_an_incident_over_http_from_opening_to_a_repeated_error(
    server: str,  # noqa: F811
    project: Any,  # noqa: F811
) -> None:
    tokens = project[1]
    viewer, scientist = tokens["viewer"], tokens["scientist"]
    opening = {"model": "churn", "summary": "complaints doubled", "level": "critical"}
    problem(
        call(server, "POST", "/v1/incidents", viewer, json=opening),
        403,
        "vic is a viewer; opening an incident on churn needs the scientist role",
    )
    problem(
        call(server, "POST", "/v1/incidents", scientist, json={**opening, "model": "fraud"}),
        404,
        "No model named fraud",
    )
    created = call(server, "POST", "/v1/incidents", scientist, json=opening)
    assert created.status_code == 201, created.text
    ident = created.json()["id"]
    assert created.json()["opened_by"] == "sam"
    base = f"/v1/incidents/{ident}"
    problem(call(server, "POST", f"{base}/ack", viewer), 403, "acknowledging incident")
    assert call(server, "POST", f"{base}/ack", scientist).json()["acknowledged_by"] == "sam"
    problem(call(server, "POST", f"{base}/ack", scientist), 409, "is acknowledged")
    diagnosis = {"root_cause": "data_drift", "details": "tenure", "participants": ["ds"]}
    body = problem(
        call(
            server,
            "POST",
            f"{base}/diagnosis",
            scientist,
            json={**diagnosis, "root_cause": "gremlins"},
        ),
        422,
        "'gremlins' is not a known root-cause category",
    )
    assert body["field"] == "root_cause"
    problem(call(server, "POST", f"{base}/diagnosis", viewer, json=diagnosis), 403, "viewer")
    assert call(server, "POST", f"{base}/diagnosis", scientist, json=diagnosis).status_code == 200
    problem(
        call(server, "POST", f"{base}/proposals", scientist, json={"proposals": ["retrain"]}),
        422,
        "must be 2 or 3",
    )
    proposals = {"proposals": ["retrain", "new features"]}
    assert call(server, "POST", f"{base}/proposals", scientist, json=proposals).status_code == 200
    ghost = {"experiment_id": "ghost-ab"}
    problem(call(server, "POST", f"{base}/experiment", viewer, json=ghost), 403, "linking")
    problem(
        call(server, "POST", f"{base}/experiment", scientist, json=ghost),
        404,
        "No experiment named ghost-ab",
    )
    problem(
        call(server, "POST", f"{base}/resolve", scientist, json={"resolution": "retrained"}),
        409,
        "cannot close without a lesson",
    )
    problem(
        call(server, "POST", f"{base}/lesson", viewer, json={"lesson": "watch tenure"}),
        403,
        "recording the lesson",
    )
    lesson = call(server, "POST", f"{base}/lesson", scientist, json={"lesson": "watch tenure"})
    assert lesson.json()["lesson"] == "watch tenure"
    problem(
        call(server, "POST", f"{base}/resolve", viewer, json={"resolution": "retrained"}),
        403,
        "resolving incident",
    )
    closed = call(server, "POST", f"{base}/resolve", scientist, json={"resolution": "retrained"})
    assert closed.json()["status"] == "closed"

    [listed] = call(server, "GET", "/v1/incidents?status=closed", viewer).json()
    assert listed == call(server, "GET", base, viewer).json() == closed.json()
    problem(call(server, "GET", "/v1/incidents/nope", viewer), 404, "No incident has the id")
    problem(call(server, "GET", "/v1/incidents?status=shut", viewer), 422, "'shut'")
    card = call(server, "GET", "/v1/scorecard", viewer).json()
    assert (card["failures_documented_pct"], card["repeated_errors"]) == (100.0, 0)
    # The served model's promotions, by evidence or override; the table cut as asked.
    shares, overall = card["override_shares"], card["override_shares"]["overall"]
    assert overall["promotions"] == overall["by_evidence"] + overall["by_override"] >= 1
    share = 100.0 * overall["by_override"] / overall["promotions"]
    assert card["override_share_pct"] == shares["override_share_pct"] == share
    assert shares["period"] == "month"
    quarterly = call(server, "GET", "/v1/scorecard?period=quarter", viewer).json()
    assert quarterly["override_shares"]["period"] == "quarter"
    problem(
        call(server, "GET", "/v1/scorecard?period=week", viewer),
        422,
        "period: must be one of month, quarter, year, not 'week'",
    )

    again = call(server, "POST", "/v1/incidents", scientist, json=opening).json()
    call(server, "POST", f"/v1/incidents/{again['id']}/ack", scientist)
    flagged = call(
        server, "POST", f"/v1/incidents/{again['id']}/diagnosis", scientist, json=diagnosis
    ).json()
    assert flagged["repeated_of"] == {"incident_id": ident, "lesson": "watch tenure"}
    card = call(server, "GET", "/v1/scorecard", viewer).json()
    assert (card["failures_documented_pct"], card["repeated_errors"]) == (50.0, 1)

    signed_in = httpx.post(f"{server}/dashboard/login", data={"token": viewer})
    session = {"Cookie": f"lucid_session={signed_in.cookies['lucid_session']}"}
    page = httpx.get(f"{server}/dashboard/incidents", headers=session)
    assert page.status_code == 200
    repeats = f'title="{ident}">repeats {ident[:8]}</a>'  # shortened, the full id its title
    for expected in ("watch tenure", "data_drift", repeats, "new features"):
        assert expected in page.text
    assert 'href="/dashboard/incidents"' in page.text
    assert httpx.get(f"{server}/dashboard/incidents").status_code == 303  # sign in first
