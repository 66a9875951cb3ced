"""Dashboard sessions against a real `lucid serve` on loopback: a captured cookie and form
token stop working at sign-out, with the token's revocation and after the idle time; a form
token of one session does not pass with another session's cookie; the cookie is `Secure`
behind a TLS proxy the project trusts, and never holds the API token."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from lucid.bootstrap import open_project
from lucid.contracts.semantic import FeatureDefinition
from lucid.features.definition_files import DefinitionSet, load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from lucid.storage.tables import dashboard_sessions
from tests.e2e.service_world import build_project, served
from tests.security.stored_state import unchanged

pytestmark = pytest.mark.slow

V2 = "customer_activity_30d@2.0.0"
APPROVAL = f"/dashboard/features/{V2}/approvals"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A served project with version 2.0.0 of customer_activity_30d proposed by dana and
    awaiting marketing's approval; the secrets of one token per role, and of `rex`."""
    folder = tmp_path_factory.mktemp("sessions") / "shop"
    secrets = build_project(folder, monitored=False)
    with open_project(folder, environ={}) as lucid:
        changed = load_definitions(CANONICAL_DEFINITIONS).features[0].to_dict()
        changed.update(version="2.0.0", window="28d", examples=[])
        proposal = DefinitionSet(features=[FeatureDefinition.from_dict(changed)])
        lucid.features.apply(proposal, actor="dana", rationale="billing month")
        _, secrets["rex"] = lucid.tokens.create(
            person="rex", role="approver", teams=["marketing"], actor="admin", rationale="t"
        )
    return folder, secrets


@contextmanager
def serving(folder: Path, **dashboard: Any) -> Iterator[str]:
    """`lucid serve` with the `dashboard:` settings given (the defaults when none)."""
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config.pop("dashboard", None)
    if dashboard:
        config["dashboard"] = dashboard
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    with served(folder) as (base, _):
        yield base


@pytest.fixture(scope="module")
def server(world: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with serving(world[0]) as base:
        yield base


def sign_in(base: str, secret: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/dashboard/login", data={"token": secret}, headers=headers, timeout=30
    )


def session_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    found = re.match(r"lucid_session=([^;]+);", cookie)
    assert found, cookie
    return found.group(1)


def page(base: str, session: str, path: str = "/dashboard/features") -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Cookie": f"lucid_session={session}"}, timeout=30)


def form_token(base: str, session: str) -> str:
    shown = page(base, session)
    assert shown.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', shown.text)
    assert found
    return found.group(1)


def approve(base: str, session: str, csrf: str) -> httpx.Response:
    form = {"team": "marketing", "rationale": "window matches billing", "csrf": csrf}
    return httpx.post(
        f"{base}{APPROVAL}", data=form, headers={"Cookie": f"lucid_session={session}"}, timeout=30
    )


def stored_session(folder: Path, session: str) -> Any:
    digest = hashlib.sha256(session.encode()).hexdigest()
    with open_project(folder, environ={}) as lucid, lucid.db.engine.connect() as connection:
        table = dashboard_sessions
        return connection.execute(select(table).where(table.c.id_sha256 == digest)).first()


def test_after_sign_out_the_captured_cookie_and_form_token_approve_nothing(
    world: Any, server: str
) -> None:
    folder, secrets = world
    answer = sign_in(server, secrets["approver"])
    session = session_of(answer)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback
    # The cookie holds a random id, never the API token; the database only its SHA-256.
    assert secrets["approver"] not in answer.headers["set-cookie"]
    row = stored_session(folder, session)
    assert (row.person, row.role, row.revoked_at) == ("mia", "approver", None)
    csrf = form_token(server, session)
    out = httpx.post(
        f"{server}/dashboard/logout",
        data={"csrf": csrf},
        headers={"Cookie": f"lucid_session={session}"},
        timeout=30,
    )
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
    assert stored_session(folder, session).revoked_at is not None
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        replayed = approve(server, session, csrf)
        assert replayed.status_code == 401
        assert "session: the session was signed out at" in replayed.text
        assert "Nothing was done." in replayed.text
        assert page(server, session).headers.get("location") == "/dashboard/login"


def test_a_form_token_of_another_session_is_refused(world: Any, server: str) -> None:
    folder, secrets = world
    first = session_of(sign_in(server, secrets["approver"]))
    second = session_of(sign_in(server, secrets["approver"]))  # the same person, twice
    assert first != second
    first_csrf, second_csrf = form_token(server, first), form_token(server, second)
    assert first_csrf != second_csrf
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        crossed = approve(server, second, first_csrf)
        assert crossed.status_code == 403
        assert "csrf: the form&#39;s token does not match this session" in crossed.text
    # The session's own form token passes: the refusal above was the binding, nothing else.
    done = approve(server, second, second_csrf)
    assert done.status_code == 303 and done.headers["location"].endswith("done=approval")
    with open_project(folder, environ={}) as lucid:
        last = lucid.events.read(type="FeatureApprovalGiven", limit=10_000)[-1]
    assert (last.actor, last.payload["version"]) == ("mia", "2.0.0")


def test_revoking_the_token_ends_its_sessions(world: Any, server: str) -> None:
    folder, secrets = world
    session = session_of(sign_in(server, secrets["rex"]))
    csrf = form_token(server, session)
    with open_project(folder, environ={}) as lucid:
        [rex] = [t for t in lucid.tokens.list() if t["person"] == "rex"]
        lucid.tokens.revoke(rex["id"], actor="admin", rationale="left the team")
    assert stored_session(folder, session).revoked_at is not None
    with open_project(folder, environ={}) as lucid, unchanged(lucid):
        refused = approve(server, session, csrf)
        assert refused.status_code == 401
        assert f"session: its token {rex['id']} was revoked; sign in again." in refused.text
        assert page(server, session).status_code == 303


def test_the_cookie_is_secure_only_behind_a_trusted_tls_proxy(world: Any, server: str) -> None:
    folder, secrets = world
    # Not trusted (the default): X-Forwarded-Proto is ignored, so is the https Origin.
    untrusted = sign_in(server, secrets["viewer"], **{"X-Forwarded-Proto": "https"})
    assert "secure" not in untrusted.headers["set-cookie"].lower()
    with serving(folder, trusted_proxy=True) as base:
        origin = base.replace("http://", "https://")
        proxied = sign_in(base, secrets["viewer"], **{"X-Forwarded-Proto": "https"}, Origin=origin)
        assert proxied.status_code == 303
        assert "; secure" in proxied.headers["set-cookie"].lower()
        direct = sign_in(base, secrets["viewer"])
        assert "secure" not in direct.headers["set-cookie"].lower()


def test_an_idle_session_expires(world: Any) -> None:
    folder, secrets = world
    with serving(folder, session_idle_hours=0.001) as base:  # 3.6 s
        session = session_of(sign_in(base, secrets["admin"]))
        csrf = form_token(base, session)
        time.sleep(4.5)
        with open_project(folder, environ={}) as lucid, unchanged(lucid):
            late = approve(base, session, csrf)
            assert late.status_code == 401
            assert "session: the session was idle for more than 0.001 h" in late.text
            assert page(base, session).headers.get("location") == "/dashboard/login"
