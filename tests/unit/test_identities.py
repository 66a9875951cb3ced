"""The normal form of a person's name, and how long a dashboard session lives: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lucid.contracts.access import Principal, Role, SessionPolicy, StoredSession, StoredToken
from lucid.contracts.events import format_time
from lucid.contracts.identities import normalise_identity, same_person
from lucid.errors import InvalidInput


@pytest.mark.parametrize(
    "spelling",
    [
        "dana",
        "Dana",
        "DANA",
        "  dana  ",
        "dana\u200b",  # zero-width space
        "\ufeffdana",  # byte-order mark
        "da\u200dna",  # zero-width joiner
        "d\u00adana",  # soft hyphen
        "\u202edana",  # right-to-left override
        "dana\u2060",  # word joiner
        "dana\u034f",  # combining grapheme joiner
        "dana\ufe0f",  # variation selector
        "\uff24\uff41\uff4e\uff41",  # full-width letters
        "\u00a0Dana\u3000",  # no-break and ideographic spaces
    ],
)
def test_every_spelling_of_one_person_is_one_name(spelling: str) -> None:
    assert normalise_identity(spelling) == "dana"
    assert same_person(spelling, "Dana")


def test_case_folding_and_compatibility_forms() -> None:
    assert normalise_identity("STRASSE") == normalise_identity("straße") == "strasse"
    assert normalise_identity("\ufb01ona") == "fiona"  # the ligature fi
    assert normalise_identity("Ana  Lima") == "ana lima"  # runs of white space are one space
    assert normalise_identity("José") == normalise_identity("Jose\u0301")  # composed or not
    assert not same_person("dana", "dan")


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("dana\n", "approver", r"^approver: must not contain control characters \(U\+000A\)"),
        ("da\x00na", "actor", r"^actor: must not contain control characters \(U\+0000\)"),
        ("\tdana", "person", r"^person: must not contain control characters \(U\+0009\)"),
        ("", "actor", r"^actor: must name who did it"),
        ("  ", "proposer", r"^proposer: must name who did it"),
        ("\u200b\u200d\ufeff", "approver", r"^approver: must name who did it .*invisible"),
    ],
)
def test_an_empty_name_or_one_with_control_characters_is_refused(
    value: str, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        normalise_identity(value, field)
    assert not same_person(value, value)  # a name with no normal form matches nobody


def test_a_principal_speaks_for_the_normal_form_of_its_person() -> None:
    assert Principal("t1", "Dana\u200b", Role.APPROVER, ("marketing",)).person == "dana"


NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
POLICY = SessionPolicy(idle=timedelta(hours=12), lifetime=timedelta(days=7))
TOKEN = StoredToken("t1", "0" * 64, "mia", "approver", ("marketing",), format_time(NOW), "admin")


def session(created: datetime, seen: datetime, revoked: datetime | None = None) -> StoredSession:
    return StoredSession(
        "1" * 64,
        "t1",
        "mia",
        "approver",
        format_time(created),
        format_time(seen),
        format_time(created + POLICY.lifetime),
        None if revoked is None else format_time(revoked),
    )


def test_a_session_lives_until_idle_lifetime_sign_out_or_its_token_ends() -> None:
    fresh = session(NOW - timedelta(hours=1), NOW - timedelta(hours=1))
    assert POLICY.ended(fresh, TOKEN, NOW) is None
    idle = session(NOW - timedelta(hours=13), NOW - timedelta(hours=12))
    assert POLICY.ended(idle, TOKEN, NOW) == "the session was idle for more than 12 h"
    old = session(NOW - timedelta(days=7), NOW - timedelta(minutes=1))
    assert POLICY.ended(old, TOKEN, NOW) == (
        f"the session expired at {format_time(NOW)}"  # busy, yet past its lifetime
    )
    out = session(NOW - timedelta(hours=1), NOW, revoked=NOW - timedelta(minutes=5))
    assert POLICY.ended(out, TOKEN, NOW) == (
        f"the session was signed out at {format_time(NOW - timedelta(minutes=5))}"
    )
    gone = StoredToken("t1", "0" * 64, "mia", "approver", (), format_time(NOW), "a", "x")
    assert POLICY.ended(fresh, gone, NOW) == "its token t1 was revoked"
    assert POLICY.ended(fresh, None, NOW) == "its token t1 was revoked"


def test_the_last_request_is_stored_at_most_once_a_minute() -> None:
    seen = session(NOW - timedelta(hours=1), NOW - timedelta(seconds=30))
    assert not POLICY.refresh_due(seen, NOW)
    assert POLICY.refresh_due(seen, NOW + timedelta(seconds=31))


def test_a_session_policy_needs_positive_durations() -> None:
    with pytest.raises(InvalidInput, match=r"^session: idle and lifetime must be positive"):
        SessionPolicy(idle=timedelta(0), lifetime=timedelta(days=1))
