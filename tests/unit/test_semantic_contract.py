"""The semantic contract's pure rules: parsing, fingerprints, version bumps, governance, audit."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from lucid.contracts.semantic import (
    Approval,
    Bump,
    Duration,
    FeatureDefinition,
    FeatureRef,
    Governed,
    PlanAction,
    Source,
    Status,
    Version,
    audit,
    check_approval,
    check_canonical,
    plan_definition,
    schema_mismatches,
)
from lucid.errors import Conflict, Forbidden, InvalidInput
from lucid.scenarios.churn import CANONICAL_DEFINITIONS

FIXTURE = CANONICAL_DEFINITIONS


def base() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(FIXTURE.read_text())["features"][0])


def definition(**changes: Any) -> FeatureDefinition:
    data = base()
    data.update(changes)
    return FeatureDefinition.from_dict(data)


def terms(purchase_weight: float = 0.7, login_weight: float = 0.3) -> dict[str, Any]:
    data = base()["computation"]
    data["aggregation"][0]["weight"] = purchase_weight
    data["aggregation"][1]["weight"] = login_weight
    return data


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds", "shown"),
    [
        ("30d", 2_592_000, "30d"),
        ("12h", 43_200, "12h"),
        ("2w", 1_209_600, "14d"),
        ("90m", 5400, "90m"),
    ],
)
def test_durations(text: str, seconds: int, shown: str) -> None:
    assert Duration.parse(text, "window").seconds == seconds
    assert str(Duration.parse(text, "window")) == shown


@pytest.mark.parametrize("bad", ["30", "0d", "-1d", "30 days", 30, None])
def test_bad_durations_are_named(bad: object) -> None:
    with pytest.raises(InvalidInput, match=r"window: .* must be a positive duration"):
        Duration.parse(bad, "window")


def test_versions_parse_short_forms_and_order() -> None:
    assert Version.parse("2.0") == Version(2, 0, 0)
    assert Version.parse("1.2.3") < Version.parse("1.10.0")
    assert Version.parse("2.0").bump_from(Version.parse("1.9.9")) is Bump.MAJOR
    assert Version.parse("1.1.0").bump_from(Version.parse("1.0.5")) is Bump.MINOR
    assert Version.parse("1.0.1").bump_from(Version.parse("1.0.0")) is Bump.PATCH
    assert FeatureRef.parse("customer_activity_30d@2.0").version == Version(2, 0, 0)
    with pytest.raises(InvalidInput, match="must pin a version"):
        FeatureRef.parse("customer_activity_30d")
    with pytest.raises(InvalidInput, match="must be a version like"):
        Version.parse("v2")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window": "forever"}, "customer_activity_30d.window"),
        ({"value_type": "decimal"}, "value_type: 'decimal' must be one of"),
        ({"colour": "blue"}, "customer_activity_30d.colour: unknown key"),
        ({"owner": " "}, "owner: must be a non-empty text"),
        ({"required_approvals": ["marketing", "marketing"]}, "lists a team twice"),
        ({"computation": {"aggregation": []}}, "must list at least one source term"),
        (
            {"computation": {"sql": {"source": "x", "expression": "SUM(a)"}, "aggregation": []}},
            "either an aggregation or sql",
        ),
        (
            {"computation": {"aggregation": [{"source": "purchases", "aggregate": "median"}]}},
            "aggregate: 'median' must be one of",
        ),
        (
            {"computation": {"aggregation": [{"source": "purchases", "aggregate": "sum"}]}},
            "the sum aggregate needs one",
        ),
        (
            {"computation": {"aggregation": [{"source": "purchases", "weight": 0}]}},
            "weight: 0.0 must be a finite non-zero number",
        ),
        (
            {
                "computation": {
                    "aggregation": [{"source": "purchases", "normalise": {"kind": "cap"}}]
                }
            },
            "the cap normaliser needs a finite cap > 0",
        ),
        (
            {
                "computation": {
                    "aggregation": [
                        {"source": "purchases", "normalise": "log1p"},
                        {"source": "purchases"},
                    ]
                }
            },
            "each source may appear in one term only",
        ),
        (
            {
                "exclusions": [
                    {
                        "name": "x",
                        "sources": ["returns"],
                        "where": {"column": "a", "op": "=", "value": 1},
                    }
                ]
            },
            "returns is not a source of this feature",
        ),
        (
            {"exclusions": [{"name": "x", "where": {"column": "a", "op": "in", "value": []}}]},
            "needs a non-empty list",
        ),
        (
            {"exclusions": [{"name": "x", "where": {"column": "a", "op": "~", "value": 1}}]},
            "op: '~' must be one of",
        ),
    ],
)
def test_bad_definitions_name_the_field_and_the_rule(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        definition(**changes)


def test_sources_check_their_roles_against_their_schema() -> None:
    data = yaml.safe_load(FIXTURE.read_text())["sources"][0]
    Source.from_dict(data)
    with pytest.raises(InvalidInput, match="event_time: column 'when' is not in the declared"):
        Source.from_dict({**data, "event_time": "when"})
    with pytest.raises(InvalidInput, match="event_time: column 'amount' must be a timestamp"):
        Source.from_dict({**data, "event_time": "amount"})
    with pytest.raises(InvalidInput, match="kind: 'excel' must be one of"):
        Source.from_dict({**data, "kind": "excel"})
    with pytest.raises(InvalidInput, match=r"schema.amount: 'money' must be one of"):
        Source.from_dict({**data, "schema": {**data["schema"], "amount": "money"}})


def test_schema_mismatches_are_sentences() -> None:
    source = Source.from_dict(yaml.safe_load(FIXTURE.read_text())["sources"][0])
    actual = {column: kind for column, kind in source.schema.items() if column != "is_test"}
    actual["amount"] = None
    actual["customer_id"] = source.schema["purchased_at"]
    assert schema_mismatches(source.schema, actual) == [
        "column 'customer_id' is declared string but the data has timestamp",
        "column 'amount' is declared double but the data has an unsupported type",
        "column 'is_test' is declared but not in the data",
    ]


# --- fingerprints and bumps --------------------------------------------------------------


def test_term_order_spacing_and_text_do_not_change_the_fingerprint() -> None:
    reordered = base()
    reordered["computation"]["aggregation"].reverse()
    reordered["exclusions"].reverse()
    reordered["description"] = "another text"
    reordered["owner"] = "someone else"
    assert FeatureDefinition.from_dict(reordered).fingerprint == definition().fingerprint


CHANGES = [
    ("window", {"window": "31d"}, Bump.MAJOR),
    ("weights", {"computation": terms(0.6, 0.4)}, Bump.MAJOR),
    ("exclusion", {"exclusions": base()["exclusions"][:1]}, Bump.MAJOR),
    ("entity", {"entity": "account"}, Bump.MAJOR),
    ("ttl", {"ttl": "1d"}, Bump.MAJOR),
    ("optional field", {"unit": "share of cap"}, Bump.MINOR),
    ("description", {"description": "clearer words"}, Bump.PATCH),
    ("owner", {"owner": "growth"}, Bump.PATCH),
]


@pytest.mark.parametrize(("kind", "changes", "bump"), CHANGES, ids=[c[0] for c in CHANGES])
def test_each_kind_of_change_needs_its_bump(kind: str, changes: dict[str, Any], bump: Bump) -> None:
    stored = [definition()]
    right = definition(**changes, version=str(Version(1, 0, 0).bumped(bump)))
    item = plan_definition(right, stored)
    assert item.action is PlanAction.NEW_VERSION, item.reason
    assert item.required is bump
    if bump is not Bump.PATCH:
        too_small = definition(**changes, version="1.0.1")
        refused = plan_definition(too_small, stored)
        assert refused.action is PlanAction.REFUSE
        assert f"is a {bump.label} change" in refused.reason
        assert str(Version(1, 0, 0).bumped(bump)) in refused.reason


def test_a_meaning_change_under_the_same_version_is_refused() -> None:
    item = plan_definition(definition(window="31d"), [definition()])
    assert item.action is PlanAction.REFUSE
    assert "is already stored and this file changes window" in item.reason
    assert "needs version 2.0.0" in item.reason


def test_plan_keeps_identical_adds_new_and_refuses_going_back() -> None:
    assert plan_definition(definition(), [definition()]).action is PlanAction.KEEP
    assert plan_definition(definition(), []).action is PlanAction.ADD
    newer = definition(window="31d", version="2.0.0")
    back = plan_definition(definition(version="0.9.0"), [definition(), newer])
    assert back.action is PlanAction.REFUSE and "versions only go forward" in back.reason
    same = plan_definition(definition(version="1.0.1"), [definition()])
    assert same.action is PlanAction.REFUSE and "nothing changed" in same.reason


# --- governance --------------------------------------------------------------------------


def governed(status: Status = Status.PROPOSED, *approvals: Approval, **changes: Any) -> Governed:
    return Governed(definition(**changes), status, "dana", tuple(approvals))


def test_approvals_complete_when_every_required_team_approved() -> None:
    assert not check_approval(governed(), "marketing", "mia")
    done = governed(Status.PROPOSED, Approval("marketing", "mia"), Approval("product", "paul"))
    assert check_approval(done, "data-science", "sam")


@pytest.mark.parametrize(
    ("candidate", "team", "person", "error", "message"),
    [
        (governed(), "marketing", "dana", Forbidden, "nobody approves their own change"),
        (governed(), "finance", "fred", Forbidden, "team 'finance' is not among the teams"),
        (
            governed(Status.PROPOSED, Approval("marketing", "mia")),
            "marketing",
            "max",
            Conflict,
            "already approved",
        ),
        (governed(Status.APPROVED), "marketing", "mia", Conflict, "only proposed definitions"),
        (governed(Status.LEGACY), "marketing", "mia", Conflict, "only proposed definitions"),
    ],
)
def test_approval_rules(
    candidate: Governed, team: str, person: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_approval(candidate, team, person)


def test_one_canonical_definition_per_concept() -> None:
    v1 = governed(Status.APPROVED)
    v2 = governed(window="31d", version="2.0.0")
    assert check_canonical(v2, [v1]) == [v1]  # a new version supersedes the old one
    rival = Governed(definition(name="activity_score"), Status.APPROVED, "x")
    with pytest.raises(Conflict, match="already has the approved definition activity_score"):
        check_canonical(v2, [v1, rival])
    other_concept = Governed(definition(name="spend", concept="spend"), Status.APPROVED, "x")
    assert check_canonical(v2, [other_concept]) == []


# --- audit -------------------------------------------------------------------------------


def legacy(name: str, source: str, window: str, owner: str) -> Governed:
    data = {
        "name": name,
        "version": "1.0",
        "concept": "customer_activity",
        "owner": owner,
        "description": f"{owner}'s activity",
        "entity": "customer",
        "window": window,
        "computation": {"aggregation": [{"source": source, "aggregate": "count"}]},
    }
    return Governed(FeatureDefinition.from_dict(data), Status.LEGACY, owner)


SEED_LEGACY = [
    legacy("active_buyers", "purchases", "30d", "marketing"),
    legacy("engaged_users", "logins", "7d", "data-science"),
    legacy("active_app_users", "app_interactions", "90d", "product"),
]


def test_the_seeds_three_activity_definitions_contradict() -> None:
    report = audit(SEED_LEGACY).to_dict()
    assert report["contradictory_definitions"] == 3
    [concept] = report["concepts"]
    assert concept["concept"] == "customer_activity" and concept["canonical"] is None
    fields = {difference["field"]: difference["values"] for difference in concept["differences"]}
    assert fields["window"] == {
        "active_app_users@1.0.0": "90d",
        "active_buyers@1.0.0": "30d",
        "engaged_users@1.0.0": "7d",
    }
    assert fields["sources"]["engaged_users@1.0.0"] == ["logins"]
    assert {"window", "sources", "aggregates"} <= set(fields)


def test_the_canonical_definition_is_what_others_contradict() -> None:
    canonical = governed(Status.APPROVED)
    report = audit([canonical, *SEED_LEGACY])
    assert report.contradictory_definitions == 3
    assert report.concepts[0].canonical == canonical.definition.ref
    retired = [Governed(g.definition, Status.DEPRECATED, g.proposed_by) for g in SEED_LEGACY]
    assert audit([canonical, *retired]).contradictory_definitions == 0


def test_a_pending_new_version_is_not_a_contradiction() -> None:
    pending = governed(window="31d", version="2.0.0")
    assert audit([governed(Status.APPROVED), pending]).contradictory_definitions == 0


def test_agreeing_definitions_do_not_contradict() -> None:
    twin = Governed(definition(name="activity_twin", description="same maths"), Status.LEGACY, "x")
    assert audit([governed(), twin]).contradictory_definitions == 0
