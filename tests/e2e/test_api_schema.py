"""Schemathesis against the OpenAPI spec of a real `lucid serve` on loopback: every operation
called with generated input (valid and invalid) under an admin token must never answer 5xx,
must answer what its spec says (status, content type, body schema), and every refusal must be
a problem body with a sentence."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.service_world import V1, build_project, served, server_log

pytestmark = pytest.mark.slow

EXAMPLES = 40
"""Generated cases per operation: about a minute and a half for the whole API on two cores."""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    folder = tmp_path_factory.mktemp("schema") / "shop"
    secrets = build_project(folder)
    with served(folder) as (base, _):
        yield base, secrets["admin"], folder


@schemathesis.check
def problem_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx is `application/problem+json` with a sentence in `detail`."""
    if response.status_code < 400:
        return None
    kind = response.headers.get("content-type", [""])[0]
    assert kind == "application/problem+json", f"{response.status_code} answered as {kind!r}"
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert body.get("status") == response.status_code, body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_body,
]


def known_path_values(base: str, admin: str) -> dict[str, Any]:
    """Path parameters naming things the project holds: the model, a feature, a run, an
    alert, the experiment."""
    headers = {"Authorization": f"Bearer {admin}"}
    run = httpx.get(f"{base}/v1/monitoring/runs", headers=headers).json()["runs"][0]
    alert = httpx.get(f"{base}/v1/alerts", headers=headers).json()[0]
    return {
        "name": "churn",
        "model": "churn",
        "version": 1,
        "reference": V1,
        "run_id": run["id"],
        "alert_id": alert["id"],
        "experiment_id": "churn-ab",
    }


def test_every_operation_answers_its_spec_and_never_5xx(api: tuple[str, str, Path]) -> None:
    base, admin, folder = api
    # Loaded here, not through schemathesis' pytest plugin: its lazy fixture loader breaks
    # on pytest 9 (it sets `Function._nodeid`, which pytest 9 no longer has).
    spec = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in spec.get_all_operations()]
    assert len(operations) > 20
    known = known_path_values(base, admin)
    failures: dict[str, str] = {}
    for operation in operations:
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        names = [p.name for p in operation.path_parameters]
        if names and all(name in known for name in names):
            # Real names and ids too, so generated bodies and queries reach the stored things.
            values = {name: known[name] for name in names}
            strategies.append(operation.as_strategy(path_parameters=values))
        cases = st.one_of(strategies)

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def answers_its_spec(case: Any) -> None:
            case.call_and_validate(
                base_url=base, headers={"Authorization": f"Bearer {admin}"}, checks=CHECKS
            )

        try:
            answers_its_spec()
        except (Exception, BaseExceptionGroup) as failure:  # schemathesis' FailureGroup
            # The group's own message hides what failed: keep its sub-exceptions too.
            failures[operation.label] = "".join(traceback.format_exception(failure))[-6000:]
    assert not failures, "\n\n".join(
        [
            *(f"{label}: {failure}" for label, failure in failures.items()),
            server_log(folder)[-4000:],
        ]
    )
