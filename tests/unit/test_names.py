"""The rules every name obeys: the whole text matches (a trailing newline is refused), at most
100 characters (200 for who acts), and unknown keys name the nearest known one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lucid.contracts.events import NewEvent, Subject
from lucid.contracts.experiments import validate_experiment_id
from lucid.contracts.incidents.lifecycle import level
from lucid.contracts.names import NAME_MAX_LENGTH, PERSON_MAX_LENGTH, check_person
from lucid.contracts.registry_events import ModelArchived
from lucid.contracts.semantic import Source
from lucid.contracts.semantic.fields import check_name, check_team
from lucid.contracts.semantic.versions import Duration, FeatureRef, Version
from lucid.contracts.validity import MonitoringPolicy
from lucid.contracts.validity.actions import Action, ActionKind
from lucid.contracts.value import parse_period, validate_model_name, validate_pinned_feature
from lucid.errors import InvalidInput


def _source(name: str) -> Source:
    return Source.from_dict(
        {
            "name": name,
            "kind": "parquet",
            "location": "data/x",
            "entity": "customer",
            "entity_key": "customer_id",
            "event_time": "at",
            "schema": {"customer_id": "string", "at": "timestamp"},
        }
    )


def _policy(model: str) -> MonitoringPolicy:
    raw = MonitoringPolicy.churn_default().to_mapping()
    return MonitoringPolicy.from_mapping({**raw, "model": model})


def _actor(person: str) -> NewEvent:
    archived = ModelArchived("churn", 1, "production")
    return NewEvent.of(archived, actor=person, subject=Subject("model", "churn@1"), rationale="r")


# (kind of name, a valid one, the check): each check raises InvalidInput or returns.
NAMES: list[tuple[str, str, Callable[[str], object]]] = [
    ("feature", "customer_activity_30d", lambda v: check_name(v, "name")),
    ("source", "purchases", _source),
    ("model", "churn-v2", validate_model_name),
    ("experiment", "churn-v3-ab", validate_experiment_id),
    ("team", "data-science", lambda v: check_team(v, "team")),
    ("policy", "churn", _policy),
    ("version", "1.2.3", Version.parse),
    ("pinned feature", "customer_activity_30d@2", validate_pinned_feature),
    ("feature reference", "customer_activity_30d@2.0", FeatureRef.parse),
    ("window", "30d", lambda v: Duration.parse(v, "window")),
    ("measurement period", "30d", parse_period),
    ("alert target", "data_team@company.com", lambda v: Action(ActionKind.ALERT, v)),
    ("subject kind", "model", lambda v: Subject(v, "churn")),
    ("actor", "dana", _actor),
    ("token person", "Dana Scully", lambda v: check_person(v, "person")),
]


@pytest.mark.parametrize(("kind", "valid", "check"), NAMES, ids=[n[0] for n in NAMES])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r", "\x00"])
def test_a_name_with_a_trailing_line_end_is_refused(
    kind: str, valid: str, check: Callable[[str], object], ending: str
) -> None:
    check(valid)
    with pytest.raises(InvalidInput) as refused:
        check(valid + ending)
    assert refused.value.field and refused.value.rule


LIMITED: list[tuple[str, Callable[[str], object], int]] = [
    ("feature", lambda v: check_name(v, "name"), NAME_MAX_LENGTH),
    ("source", _source, NAME_MAX_LENGTH),
    ("model", validate_model_name, NAME_MAX_LENGTH),
    ("experiment", validate_experiment_id, NAME_MAX_LENGTH),
    ("team", lambda v: check_team(v, "team"), NAME_MAX_LENGTH),
    ("policy", _policy, NAME_MAX_LENGTH),
    ("actor", _actor, PERSON_MAX_LENGTH),
    ("token person", lambda v: check_person(v, "person"), PERSON_MAX_LENGTH),
    ("alert target", lambda v: Action(ActionKind.ALERT, v), PERSON_MAX_LENGTH),
]


@pytest.mark.parametrize(("kind", "check", "longest"), LIMITED, ids=[n[0] for n in LIMITED])
def test_names_have_a_maximum_length(
    kind: str, check: Callable[[str], object], longest: int
) -> None:
    check("a" * longest)
    with pytest.raises(InvalidInput, match=f"at most {longest} characters, not 400"):
        check("a" * 400)


def test_a_version_takes_ascii_digits_only() -> None:
    assert Version.parse("2.0") == Version(2, 0, 0)
    assert Version.parse(3) == Version(3, 0, 0)
    for wrong in ("١.٢", "²", "1.0.0.0", " 1.0", "1..0", True, ["1"]):
        with pytest.raises(InvalidInput, match=r"must be a version like 1\.0\.0"):
            Version.parse(wrong)


def test_a_person_has_no_control_character() -> None:
    with pytest.raises(InvalidInput, match=r"actor: must not contain control characters \(U\+000A"):
        _actor("dana\nforged line")
    with pytest.raises(InvalidInput, match="actor: must name who did it"):
        _actor("   ")


def test_an_unknown_level_names_the_nearest() -> None:
    assert level("critical") == "critical"
    with pytest.raises(
        InvalidInput, match=r"^level: 'critcal' is not one of .*did you mean critical"
    ):
        level("critcal")
