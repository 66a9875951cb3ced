"""The hash chain's rules, without storage: sealing, canonical form, every kind of tampering."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lucid.contracts.catalogue import typed
from lucid.contracts.events import (
    GENESIS_HASH,
    DecisionRecorded,
    NewEvent,
    RecordedEvent,
    Subject,
    canonical_payload,
    event_class,
    format_time,
    parse_time,
    seal,
    verify_chain,
)
from lucid.errors import InvalidInput, NotFound

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def new(title: str = "t", rationale: str = "because") -> NewEvent:
    return NewEvent.of(
        DecisionRecorded(title=title, decision="d"),
        actor="ana",
        subject=Subject("model", "churn@3"),
        rationale=rationale,
    )


def chain(count: int) -> list[RecordedEvent]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        event = seal(new(f"e{seq}"), seq=seq, id=f"id-{seq}", recorded_at=T0, prev_hash=prev)
        events.append(event)
        prev = event.hash
    return events


def test_a_sealed_chain_verifies() -> None:
    verdict = verify_chain(chain(5))
    assert verdict.to_dict() == {"ok": True, "events": 5, "first_bad": None, "reason": None}


def test_an_empty_chain_verifies() -> None:
    assert verify_chain([]).ok


HASHED_FIELDS = [
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "subject",
    "payload_json",
    "rationale",
]


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_changing_any_field_names_that_event(field: str) -> None:
    events = chain(4)
    original = getattr(events[2], field)
    changed = original[:-1] + ("X" if original[-1] != "X" else "Y")
    events[2] = dataclasses.replace(events[2], **{field: changed})
    verdict = verify_chain(events)
    assert not verdict.ok
    assert verdict.first_bad == "id-3"
    assert "changed after it was recorded" in (verdict.reason or "")


def test_changing_an_id_breaks_its_hash() -> None:
    events = chain(3)
    events[1] = dataclasses.replace(events[1], id="forged")
    assert verify_chain(events).first_bad == "forged"


def test_a_removed_event_is_named_by_its_successor() -> None:
    events = chain(4)
    del events[1]
    verdict = verify_chain(events)
    assert verdict.first_bad == "id-3"
    assert "position 2 was expected" in (verdict.reason or "")


def test_a_rewritten_history_breaks_the_link_of_the_next_event() -> None:
    events = chain(4)
    # Re-seal event 2 with new content: its own hash is valid, but event 3 links to the old one.
    events[1] = seal(new("forged"), seq=2, id="id-2", recorded_at=T0, prev_hash=events[0].hash)
    verdict = verify_chain(events)
    assert verdict.first_bad == "id-3"
    assert "chain was rewritten" in (verdict.reason or "")


def test_swapping_two_events_is_caught() -> None:
    events = chain(4)
    events[1], events[2] = events[2], events[1]
    assert not verify_chain(events).ok


@given(
    st.integers(min_value=0, max_value=5),
    st.sampled_from(HASHED_FIELDS),
    st.text(min_size=1, max_size=20),
)
def test_any_change_to_any_event_is_caught(index: int, field: str, suffix: str) -> None:
    events = chain(6)
    events[index] = dataclasses.replace(
        events[index], **{field: getattr(events[index], field) + suffix}
    )
    assert verify_chain(events).first_bad == f"id-{index + 1}"


def test_canonical_payload_is_independent_of_key_order() -> None:
    assert canonical_payload({"b": 1, "a": [1, 2]}) == canonical_payload({"a": [1, 2], "b": 1})
    assert canonical_payload({"é": "ü"}) == '{"é":"ü"}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_with_their_path(bad: float) -> None:
    with pytest.raises(InvalidInput, match=r"payload\.metrics\[1\]: must be a finite number"):
        canonical_payload({"metrics": [1.0, bad]})


def test_payloads_must_be_json() -> None:
    with pytest.raises(InvalidInput, match="payload: must hold only JSON values"):
        canonical_payload({"when": T0})


def test_times_are_canonical_utc_and_round_trip() -> None:
    paris = timezone(timedelta(hours=1))
    text = format_time(datetime(2026, 11, 25, 9, 30, tzinfo=paris))
    assert text == "2026-11-25T08:30:00.000000Z"
    assert parse_time(text) == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInput, match="occurred_at: must carry a time zone"):
        NewEvent("DecisionRecorded", "ana", Subject("x", "y"), {}, "why", datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actor": " "}, "actor: must name who did it"),
        ({"rationale": ""}, "rationale: must say why"),
        ({"type": "NoSuchThing"}, "Event type 'NoSuchThing' is not registered"),
    ],
)
def test_new_events_need_an_actor_a_rationale_and_a_known_type(
    kwargs: dict[str, str], message: str
) -> None:
    values = {"type": "DecisionRecorded", "actor": "ana", "rationale": "why", **kwargs}
    with pytest.raises((InvalidInput, NotFound), match=message):
        NewEvent(values["type"], values["actor"], Subject("x", "y"), {}, values["rationale"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model", "must be written kind:id"),
        ("Model:x", "kind 'Model' must be lower-case"),
        ("model:", "id '' must be non-empty"),
        ("model:a b", "must be non-empty with no spaces"),
    ],
)
def test_subjects_are_kind_colon_id(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Subject.parse(text)


def test_subject_ids_may_hold_colons() -> None:
    assert Subject.parse("feature:a:b@1.0") == Subject("feature", "a:b@1.0")
    assert str(Subject.parse("model:churn@3")) == "model:churn@3"


def test_a_recorded_event_gives_back_its_typed_event() -> None:
    event = chain(1)[0]
    assert typed(event) == DecisionRecorded(title="e1", decision="d")
    assert event_class("DecisionRecorded") is DecisionRecorded
    assert event.to_dict()["payload"] == {"title": "e1", "decision": "d"}


def test_unknown_payload_fields_are_refused() -> None:
    with pytest.raises(InvalidInput, match="DecisionRecorded has no field"):
        DecisionRecorded.from_payload({"title": "x", "decision": "y", "extra": 1})
