"""Four-eyes by person, not by spelling: another case, full-width letters or an invisible
character never make a proposer someone else. Every approval that has a four-eyes rule — a
feature definition's approval, a promotion override, a monitoring threshold change — refused
through the SDK, the CLI and HTTP where each exists, with one sentence and nothing stored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import insert

from lucid.bootstrap import open_project
from lucid.contracts.semantic import FeatureDefinition
from lucid.contracts.validity import MonitoringPolicy
from lucid.contracts.validity.policy import ThresholdApproval
from lucid.contracts.value import Override
from lucid.errors import Forbidden, InvalidInput
from lucid.features.definition_files import DefinitionSet, load_definitions
from lucid.monitoring.policy_changes import change_threshold
from lucid.monitoring.policy_file import dump_policy
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from lucid.storage.tables import api_tokens
from tests.conftest import run_lucid
from tests.e2e.service_world import build_project, served
from tests.security.stored_state import unchanged

pytestmark = pytest.mark.slow

V2 = "customer_activity_30d@2.0.0"
DANA = ["Dana", "DANA", "dana\u200b", "\ufeffdana", "\uff24\uff41\uff4e\uff41", " da\u200dna "]
"""dana, the proposer of V2, spelt otherwise: case, invisible characters, full-width letters."""
ANA = ["Ana", "ANA", "ana\u200b", "a\u00adna", "\uff21\uff4e\uff41"]
"""ana, who registered churn@2 and proposes the policy change, spelt otherwise."""
OWN_FEATURE = "dana proposed customer_activity_30d@2.0.0 and cannot approve it: nobody approves"
OWN_OVERRIDE = "override.approver: ana registered churn@2 and may not also approve its override"
OWN_POLICY = "ana proposed the change of psi and cannot approve it for data_team"


def looser_policy() -> MonitoringPolicy:
    policy = MonitoringPolicy.churn_default("churn")
    looser = replace(policy.thresholds[0], warning=0.15, critical=0.25)
    return replace(policy, thresholds=(looser, *policy.thresholds[1:]))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """V2 proposed by dana; churn@2 registered by ana at challenger, with `ANA` among the
    approvers of lucid.yaml; churn's policy stored by ana; tokens for dana and ana spelt
    otherwise, one of them stored before names were normalised; the real server."""
    folder = tmp_path_factory.mktemp("identities") / "shop"
    secrets = build_project(folder, monitored=False)
    config = yaml.safe_load((folder / "lucid.yaml").read_text())
    config["approvers"] = ["bea", "ANA"]
    (folder / "lucid.yaml").write_text(yaml.safe_dump(config))
    with open_project(folder, environ={}) as lucid:
        changed = load_definitions(CANONICAL_DEFINITIONS).features[0].to_dict()
        changed.update(version="2.0.0", window="28d", examples=[])
        proposal = DefinitionSet(features=[FeatureDefinition.from_dict(changed)])
        lucid.features.apply(proposal, actor="dana", rationale="billing month")
        lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
        lucid.monitoring.set_policy(
            MonitoringPolicy.churn_default("churn"), actor="ana", rationale="first policy"
        )
        for name, person in (("Dana", "Dana"), ("dana-zw", "dana\u200b"), ("ANA", "ANA")):
            principal, secrets[name] = lucid.tokens.create(
                person=person, role="approver", teams=["marketing"], actor="admin", rationale="t"
            )
            assert principal.person == person.replace("\u200b", "").lower()
        # A token row written before names were normalised speaks for its normal form too.
        secret = "lucid_0123456789abcdef_legacy-secret"
        with lucid.db.engine.begin() as connection:
            connection.execute(
                insert(api_tokens).values(
                    id="0123456789abcdef",
                    secret_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                    person="DANA\u200b",
                    role="approver",
                    teams=json.dumps(["marketing"]),
                    created_at="2026-01-01T00:00:00.000000Z",
                    created_by="admin",
                )
            )
        secrets["legacy"] = secret
    (folder / "policy.yaml").write_text(dump_policy(looser_policy()))
    return {"folder": folder, "secrets": secrets}


# --- a feature definition's approval -----------------------------------------------------------


@pytest.mark.parametrize("spelling", DANA)
def test_sdk_the_proposer_of_a_definition_cannot_approve_it_spelt_otherwise(
    world: dict[str, Any], spelling: str
) -> None:
    with (
        open_project(world["folder"], environ={}) as lucid,
        unchanged(lucid),
        pytest.raises(Forbidden, match=OWN_FEATURE),
    ):
        lucid.features.approve(V2, team="marketing", person=spelling, rationale="mine")


def cli(world: dict[str, Any], *args: str, actor: str | None = None) -> Any:
    env = {"LUCID_ACTOR": actor} if actor is not None else {}
    return run_lucid("--project", str(world["folder"]), *args, env=env)


def test_cli_the_proposer_of_a_definition_cannot_approve_it_spelt_otherwise(
    world: dict[str, Any],
) -> None:
    approve = ("features", "approve", V2, "--team", "marketing", "--rationale", "mine")
    with open_project(world["folder"], environ={}) as lucid, unchanged(lucid):
        for spelling in ("Dana", "dana\u200b"):
            by_option = cli(world, *approve, "--as", spelling)
            assert by_option.code != 0 and OWN_FEATURE in by_option.stderr, by_option.stderr
        by_environment = cli(world, *approve, actor="DANA\ufeff")
        assert by_environment.code != 0 and OWN_FEATURE in by_environment.stderr
        newline = cli(world, *approve, "--as", "mia\n")
        assert newline.code != 0
        assert "actor: must not contain control characters (U+000A)" in newline.stderr


def http(base: str, path: str, secret: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}"}
    return httpx.post(f"{base}{path}", json=body, headers=headers, timeout=30)


def test_http_the_proposer_of_a_definition_cannot_approve_it_spelt_otherwise(
    world: dict[str, Any],
) -> None:
    body = {"team": "marketing", "rationale": "mine"}
    with (
        served(world["folder"]) as (base, _),
        open_project(world["folder"], environ={}) as lucid,
        unchanged(lucid),
    ):
        for token in ("Dana", "dana-zw", "legacy"):
            answer = http(base, f"/v1/features/{V2}/approvals", world["secrets"][token], body)
            assert answer.status_code == 403, answer.text
            assert OWN_FEATURE in answer.json()["detail"]


# --- a promotion override --------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ANA)
def test_sdk_whoever_registered_a_version_cannot_override_its_gate_spelt_otherwise(
    world: dict[str, Any], spelling: str
) -> None:
    with (
        open_project(world["folder"], environ={}) as lucid,
        unchanged(lucid),
        pytest.raises(Forbidden, match=OWN_OVERRIDE),
    ):
        lucid.registry.promote(
            "churn",
            2,
            "production",
            actor="bea",
            rationale="ship it",
            override=Override(spelling, "ship it"),
        )


def test_cli_whoever_registered_a_version_cannot_override_its_gate_spelt_otherwise(
    world: dict[str, Any],
) -> None:
    promote = ("models", "promote", "churn", "2", "--to", "production", "--rationale", "ship")
    with open_project(world["folder"], environ={}) as lucid, unchanged(lucid):
        for spelling in ("Ana", "ana\u200b"):
            refused = cli(world, *promote, "--override-by", spelling, "--as", "bea")
            assert refused.code != 0 and OWN_OVERRIDE in refused.stderr, refused.stderr


def test_http_whoever_registered_a_version_cannot_override_its_gate_spelt_otherwise(
    world: dict[str, Any],
) -> None:
    body = {"to": "production", "rationale": "ship it", "override": True}
    with (
        served(world["folder"]) as (base, _),
        open_project(world["folder"], environ={}) as lucid,
        unchanged(lucid),
    ):
        path = "/v1/models/churn/versions/2/promotions"
        answer = http(base, path, world["secrets"]["ANA"], body)
        assert answer.status_code == 403, answer.text
        assert OWN_OVERRIDE in answer.json()["detail"]


# --- a monitoring threshold change -----------------------------------------------------------


@pytest.mark.parametrize("spelling", ANA)
def test_sdk_the_proposer_of_a_threshold_change_cannot_approve_it_spelt_otherwise(
    world: dict[str, Any], spelling: str
) -> None:
    approvals = [ThresholdApproval("data_team", spelling), ThresholdApproval("business_team", "cy")]
    with open_project(world["folder"], environ={}) as lucid, unchanged(lucid):
        with pytest.raises(Forbidden, match=OWN_POLICY):
            lucid.monitoring.set_policy(
                looser_policy(), actor="ana", rationale="Mondays", approvals=approvals
            )
        with pytest.raises(Forbidden, match=OWN_POLICY):
            change_threshold(
                lucid.uows,
                lucid.monitoring.policy("churn"),
                looser_policy().thresholds[0],
                proposer="ana",
                rationale="Mondays",
                approvals=approvals,
            )
        with pytest.raises(Forbidden, match=OWN_POLICY):  # the proposer spelt otherwise
            lucid.monitoring.set_policy(
                looser_policy(),
                actor=spelling,
                rationale="Mondays",
                approvals=[ThresholdApproval("data_team", "ana"), approvals[1]],
            )


def test_cli_the_proposer_of_a_threshold_change_cannot_approve_it_spelt_otherwise(
    world: dict[str, Any],
) -> None:
    policy = str(world["folder"] / "policy.yaml")
    change = ("monitor", "policy", "set", "churn", policy, "--rationale", "Mondays")
    with open_project(world["folder"], environ={}) as lucid, unchanged(lucid):
        for spelling in ("Ana", "ana\u200b"):
            refused = cli(
                world,
                *change,
                *("--approve", f"data_team:{spelling}", "--approve", "business_team:cy"),
                actor="ana",
            )
            assert refused.code != 0 and OWN_POLICY in refused.stderr, refused.stderr


# --- names that are nobody -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "message"),
    [
        (
            lambda lucid: lucid.tokens.create(
                person="\u200b", role="viewer", teams=[], actor="admin", rationale="t"
            ),
            "person: must name who did it",
        ),
        (
            lambda lucid: lucid.tokens.create(
                person="eve\x00", role="viewer", teams=[], actor="admin", rationale="t"
            ),
            r"person: must not contain control characters \(U\+0000\)",
        ),
        (
            lambda lucid: lucid.features.approve(
                V2, team="marketing", person="\ufeff ", rationale="r"
            ),
            "approver: must name who did it",
        ),
        (
            lambda lucid: lucid.registry.freeze("churn", reason="r", actor="mia\r"),
            r"actor: must not contain control characters \(U\+000D\)",
        ),
    ],
)
def test_a_name_that_is_nobody_is_refused_naming_its_field(
    world: dict[str, Any], attempt: Any, message: str
) -> None:
    with (
        open_project(world["folder"], environ={}) as lucid,
        unchanged(lucid),
        pytest.raises(InvalidInput, match=message),
    ):
        attempt(lucid)


def test_names_are_stored_in_their_normal_form(world: dict[str, Any]) -> None:
    with open_project(world["folder"], environ={}) as lucid:
        persons = {token["person"] for token in lucid.tokens.list()}
        assert {"dana", "ana"} <= persons and "Dana" not in persons and "ANA" not in persons
        lucid.features.approve(V2, team="marketing", person="MIA\u200b", rationale="ok")
        [given] = lucid.events.read(type="FeatureApprovalGiven", limit=10_000)[-1:]
    assert (given.actor, given.payload["person"]) == ("mia", "mia")
