"""Issue 20 over HTTP, against the real `lucid serve` on loopback: bodies bounded before they
are read (413), text with control characters refused naming the field (422) without failing
the valid predictions committed beside it, unknown fields refused (422), and the roles that
may log what is served (403 for a viewer). Every attack leaves the stored state unchanged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lucid.bootstrap import Lucid, open_project
from lucid.monitoring.predictions import prediction_rows
from lucid.service.group_commit import Entry, PredictionJournal
from lucid.storage import schema
from lucid.storage.database import Database
from lucid.storage.tables import prediction_log
from tests.conftest import fresh_postgres_schema, run_lucid
from tests.e2e.service_world import build_project, served, server_log
from tests.security.stored_state import unchanged

World = tuple[Path, dict[str, str], str, int]
"""The project folder, a token per role, the server's base URL and its process id."""

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this module's own."""
    with fresh_postgres_schema() as url:
        yield url


def _world(folder: Path, database_url: str | None) -> Iterator[World]:
    secrets = build_project(folder, monitored=False, database_url=database_url)
    with served(folder, workers=1) as (base, process):
        yield folder, secrets, base, process.pid


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("http") / "shop", None)


@pytest.fixture(scope="module")
def postgres_world(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("http_pg") / "shop", postgres_url)


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> World:
    """The served project, once with its metadata on SQLite and once on PostgreSQL."""
    world: World = request.getfixturevalue(f"{request.param}_world")
    return world


def headers(world: World, role: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {world[1][role]}"} if role else {}


def post(world: World, path: str, role: str | None, **kwargs: Any) -> httpx.Response:
    extra = kwargs.pop("headers", {})
    return httpx.post(
        f"{world[2]}{path}", headers=headers(world, role) | extra, timeout=30, **kwargs
    )


def predict(world: World, body: dict[str, Any] | str) -> httpx.Response:
    """A service's prediction; a body given as text is sent as it is written."""
    if isinstance(body, str):
        return post(world, "/v1/predict/churn", "service", content=body.encode())
    return post(world, "/v1/predict/churn", "service", json=body)


def refused(answer: httpx.Response, status: int, field: str | None = None) -> str:
    """The problem's sentence, once the answer is checked to be that refusal."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    if field is not None:
        assert problem["field"] == field, problem
        assert problem["detail"].startswith(f"{field}: "), problem
    detail: str = problem["detail"]
    assert detail.count(". ") == 0, f"one sentence: {detail}"
    return detail


def peak_memory_kib(pid: int) -> int:
    """The peak resident memory (VmHWM) of a process and its descendants, in KiB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def zeros(size: int) -> Iterator[bytes]:
    """`size` bytes streamed 1 MiB at a time, from one buffer (nothing of that size is made)."""
    chunk = bytes(MIB)
    for _ in range(size // MIB):
        yield chunk


def stream(world: World, path: str, size: int, *, declared: bool, role: str | None = None) -> Any:
    """POST `size` bytes to `path`, with their Content-Length or chunked; the answer and the
    seconds it took."""
    length = {"content-length": str(size)} if declared else {}
    form = "application/x-www-form-urlencoded"  # the dashboard's forms
    kind = form if path.startswith("/dashboard") else "application/json"
    started = time.monotonic()
    answer = post(world, path, role, content=zeros(size), headers={"content-type": kind} | length)
    return answer, time.monotonic() - started


# --- bodies -------------------------------------------------------------------------------


def test_a_huge_unauthenticated_body_is_refused_before_it_is_read(sqlite_world: World) -> None:
    folder, _, _, pid = sqlite_world
    peak = peak_memory_kib(pid)
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        for path in ("/v1/incidents", "/v1/predict/churn", "/dashboard/login"):
            answer, seconds = stream(sqlite_world, path, 200 * MIB, declared=True)
            assert refused(answer, 413, "body") == (
                f"body: must be at most {MIB} bytes on this route."
            )
            assert answer.headers["connection"] == "close"
            assert seconds < 5, f"{path} took {seconds:.1f} s to refuse"
    grown = (peak_memory_kib(pid) - peak) / 1024
    assert grown < 20, f"the worker's peak memory grew by {grown:.0f} MiB"


def test_a_chunked_body_over_the_limit_is_refused_as_it_is_read(sqlite_world: World) -> None:
    folder, _, _, pid = sqlite_world
    peak = peak_memory_kib(pid)
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        for path, role in (
            ("/v1/incidents", None),
            ("/v1/incidents", "scientist"),
            ("/v1/predict/churn", "service"),
            ("/dashboard/login", None),
        ):
            answer, seconds = stream(sqlite_world, path, 200 * MIB, declared=False, role=role)
            refused(answer, 413, "body")
            assert seconds < 5, f"{path} took {seconds:.1f} s to refuse"
    grown = (peak_memory_kib(pid) - peak) / 1024
    assert grown < 20, f"the worker's peak memory grew by {grown:.0f} MiB"
    # Under the limit, chunked or not, the same routes answer as before.
    fine = post(sqlite_world, "/v1/predict/churn", "service", json={"entity_id": "c00001"})
    assert fine.status_code == 200, fine.text


# --- text ---------------------------------------------------------------------------------


def stored_predictions(lucid: Lucid, ids: list[str]) -> set[str]:
    with lucid.db.transaction() as connection:
        found = connection.execute(
            select(prediction_log.c.id).where(prediction_log.c.id.in_(ids))
        ).scalars()
        return set(found)


def test_a_nul_byte_is_refused_naming_the_field_and_fails_no_other_prediction(
    world: World,
) -> None:
    folder = world[0]
    bad = {"entity_id": "c00001\u0000; DROP"}
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        detail = refused(post(world, "/v1/predict/churn", "service", json=bad), 422, "entity_id")
        assert detail == (
            "entity_id: must not contain U+0000 (a control character), found at character 7"
        )
    entities = [f"c{n:05d}" for n in range(1, 41)]
    requests = [{"entity_id": e} for e in entities] + [bad] * 10
    requests += [{"entity_id": "c00002\u001b[31m"}, '{"entity_id": "c00003\\ud800"}']
    with open_project(folder, environ={}) as lucid:
        before = stored_state_count(lucid)
    with ThreadPoolExecutor(16) as pool:  # valid and bad requests reach the same groups
        answers = list(pool.map(lambda body: predict(world, body), requests))
    valid, rejected = answers[: len(entities)], answers[len(entities) :]
    assert [a.status_code for a in valid] == [200] * len(entities), server_log(folder)[-2000:]
    for answer in rejected[:-1]:
        refused(answer, 422, "entity_id")
    refused(rejected[-1], 422, "body")  # an unpaired surrogate is not JSON to this route
    ids = [answer.json()["prediction_id"] for answer in valid]
    with open_project(folder, environ={}) as lucid:
        assert stored_predictions(lucid, ids) == set(ids)
        assert stored_state_count(lucid) == before + len(entities)


def stored_state_count(lucid: Lucid) -> int:
    with lucid.db.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(prediction_log)).scalar())


def test_control_characters_in_any_stored_field_or_parameter_are_refused(world: World) -> None:
    folder = world[0]
    at = "2030-01-01T00:00:00Z"
    attacks = [
        ("/v1/incidents", "scientist", {"model": "churn", "summary": "a\u0000b"}, "summary"),
        ("/v1/incidents", "scientist", {"model": "ch\u0000urn", "summary": "s"}, "model"),
        (
            "/v1/outcomes",
            "service",
            {"model": "churn", "outcomes": [{"entity": "c1\x00", "label": 1, "observed_at": at}]},
            "outcomes.0.entity",
        ),
        (
            "/v1/features/customer_activity_30d@1.0.0/approvals",
            "approver",
            {"team": "marketing", "rationale": "fine\u0000"},
            "rationale",
        ),
        (
            "/v1/models/churn/freeze",
            "admin",
            {"reason": "line\nbreaks\tare fine, \u007f is not"},
            "reason",
        ),
        (
            "/v1/features/online",
            "service",
            {"entity_ids": ["c1\u0000"], "features": ["customer_activity_30d@1.0.0"], "log": True},
            "entity_ids.0",
        ),
    ]
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        for path, role, body, field in attacks:
            refused(post(world, path, role, json=body), 422, field)
        surrogate = b'{"model": "churn", "summary": "half a pair: \\udc80"}'
        json_type = {"content-type": "application/json"}
        answer = post(world, "/v1/incidents", "scientist", content=surrogate, headers=json_type)
        assert "U+DC80 (an unpaired surrogate)" in refused(answer, 422, "summary")
        viewer = headers(world, "viewer")
        for path, field in (
            ("/v1/models/ch%00urn", "name"),
            ("/v1/events?type=Model%00Promoted", "type"),
            ("/v1/incidents?model=%00", "model"),
        ):
            answer = httpx.get(f"{world[2]}{path}", headers=viewer, timeout=30)
            refused(answer, 422, field)
        refused(post(world, "/v1/predict/ch%00urn", "service", json={"entity_id": "c1"}), 422)
        form = {"reason": "a\u0000b", "csrf": "x"}  # the dashboard's form, before its session
        refused(post(world, "/dashboard/models/churn/freeze", None, data=form), 422, "reason")


def test_the_group_commit_fails_only_the_row_the_database_refuses(
    database_url: str, tmp_path: Path
) -> None:
    """Rows that passed validation and still fail in the database (a NUL byte on PostgreSQL,
    an id already logged on both) fail their own request, not their group's."""
    assert run_lucid("init", str(tmp_path / "p")).code == 0
    environ = {"LUCID_DATABASE_URL": database_url}
    db = Database(database_url)
    schema.upgrade(db)
    db.dispose()
    with open_project(tmp_path / "p", environ=environ) as lucid:
        now = datetime.now(UTC)

        def entry(entity: str, prediction_id: str | None = None) -> Entry:
            row: dict[str, Any] = {"entity": "c1", "served_at": now, "features": {"x": 1.0}}
            row |= {"score": 0.5} | ({"id": prediction_id} if prediction_id else {})
            [prediction] = prediction_rows("churn", 1, [row])
            return Entry(predictions=[prediction | {"entity": entity}])

        taken = entry("c0")
        asyncio.run(_log_all(lucid, [taken]))
        bad = [entry("c1", taken.predictions[0]["id"])]
        if not lucid.db.is_sqlite:
            bad.append(entry("c1\x00"))
        good = [entry(f"c{n}") for n in range(2, 12)]
        failures = asyncio.run(_log_all(lucid, good[:5] + bad + good[5:]))
        assert [f is None for f in failures] == [True] * 5 + [False] * len(bad) + [True] * 5
        ids = [e.predictions[0]["id"] for e in good]
        assert stored_predictions(lucid, ids) == set(ids)


async def _log_all(lucid: Lucid, entries: list[Entry]) -> list[BaseException | None]:
    """Log the entries as concurrent requests (one group); each request's failure."""
    journal = PredictionJournal(lucid)
    results = await asyncio.gather(*(journal.log(e) for e in entries), return_exceptions=True)
    await journal.close()
    return [r if isinstance(r, BaseException) else None for r in results]


# --- fields, lengths, numbers ---------------------------------------------------------------


def test_unknown_fields_and_oversized_values_are_refused_naming_the_field(world: World) -> None:
    folder = world[0]
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        typo = {"model": "churn", "summary": "latency", "levle": "critical"}
        assert refused(post(world, "/v1/incidents", "scientist", json=typo), 422, "levle") == (
            "levle: is not a field of this request (unknown fields are refused, not ignored)"
        )
        extra = {"entity_id": "c00001", "debug": True}
        refused(post(world, "/v1/predict/churn", "service", json=extra), 422, "debug")
        long_name = {"model": "m" * 400, "summary": "s"}
        refused(post(world, "/v1/incidents", "scientist", json=long_name), 422, "model")
        long_id = {"entity_id": "c" * 201}
        refused(post(world, "/v1/predict/churn", "service", json=long_id), 422, "entity_id")
        huge = httpx.get(
            f"{world[2]}/v1/events?after={2**70}", headers=headers(world, "viewer"), timeout=30
        )
        refused(huge, 422, "after")
        promotion = {"to": "challenger", "rationale": "r"}
        path = f"/v1/models/churn/versions/{2**70}/promotions"
        refused(post(world, path, "scientist", json=promotion), 422, "version")
        refused(post(world, "/v1/incidents", "scientist", content=b"{broken"), 422)


# --- roles --------------------------------------------------------------------------------


def test_only_scientists_and_services_log_what_is_served(sqlite_world: World) -> None:
    world = sqlite_world
    folder = world[0]
    online = {"entity_ids": ["c00001"], "features": ["customer_activity_30d@1.0.0"]}
    outcome = {
        "model": "churn",
        "outcomes": [{"entity": "c00001", "label": 1, "observed_at": "2030-01-01T00:00:00Z"}],
    }
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        detail = refused(post(world, "/v1/predict/churn", "viewer", json={"entity_id": "c1"}), 403)
        assert detail == (
            "vic is a viewer; predicting with churn (each prediction is logged) needs the "
            "scientist or service role."
        )
        logging = post(world, "/v1/features/online", "viewer", json=online | {"log": True})
        assert "logging served values needs the scientist or service role" in refused(logging, 403)
        outcomes = post(world, "/v1/outcomes", "viewer", json=outcome)
        assert "logging outcomes" in refused(outcomes, 403)
        reading = post(world, "/v1/features/online", "viewer", json=online)  # a read
        assert reading.status_code == 200, reading.text
        # A service logs, and reads, but takes no governance step.
        promotion = {"to": "challenger", "rationale": "ship"}
        answer = post(world, "/v1/models/churn/versions/2/promotions", "service", json=promotion)
        assert "checkout is a service" in refused(answer, 403)
        incident = {"model": "churn", "summary": "s"}
        assert "needs the scientist role" in refused(
            post(world, "/v1/incidents", "service", json=incident), 403
        )
        assert httpx.get(f"{world[2]}/v1/models", headers=headers(world, "service")).is_success
    for role in ("service", "scientist"):
        answer = post(world, "/v1/predict/churn", role, json={"entity_id": "c00004"})
        assert answer.status_code == 200, answer.text
    logged = post(world, "/v1/features/online", "service", json=online | {"log": True})
    assert logged.status_code == 200, logged.text


def test_tokens_create_takes_the_service_role(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    assert run_lucid("init", str(folder)).code == 0
    created = run_lucid(
        "--project", str(folder), "tokens", "create", "--person", "checkout", "--role", "service"
    )
    assert created.code == 0, created.stderr
    assert "(service)" in created.stdout
    wrong = run_lucid(
        "--project", str(folder), "tokens", "create", "--person", "x", "--role", "robot"
    )
    assert wrong.code != 0 and "service" in wrong.stderr + wrong.stdout
