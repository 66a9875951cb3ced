"""The pure rules of the anchored log: the state folded from events and its comparison with the
tables, checkpoint statements (format, signature, trust) and the chain checked against them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lucid.contracts.access_events import TokenCreated, TokenRevoked
from lucid.contracts.events import (
    GENESIS_HASH,
    ChainVerdict,
    ChainVerifier,
    DecisionRecorded,
    DomainEvent,
    NewEvent,
    RecordedEvent,
    Subject,
    seal,
)
from lucid.contracts.log_checkpoints import (
    Anchor,
    ListedCheckpoint,
    PublicKey,
    SignedCheckpoint,
    SigningKey,
    accept_checkpoints,
)
from lucid.contracts.log_state import (
    LogState,
    StateFold,
    first_disagreement,
    fold_state,
    freeze_fields,
    token_fields,
)
from lucid.contracts.registry_events import (
    ModelArchived,
    ModelFrozen,
    ModelPromoted,
    ModelRegistered,
    ModelRolledBack,
    ModelUnfrozen,
)
from lucid.contracts.semantic.events import (
    FeatureApprovalGiven,
    FeatureApproved,
    FeatureDeprecated,
    FeatureProposed,
    LegacyFeatureImported,
)
from lucid.errors import ConfigurationError, InvalidInput
from lucid.settings import load_settings
from tests.unit.test_settings import make_project

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def chain(typed: list[DomainEvent]) -> list[RecordedEvent]:
    """`typed` sealed in order into a valid chain."""
    sealed: list[RecordedEvent] = []
    prev = GENESIS_HASH
    for seq, event in enumerate(typed, start=1):
        new = NewEvent.of(event, actor="ana", subject=Subject("x", "y"), rationale="why")
        recorded = seal(new, seq=seq, id=f"e{seq}", recorded_at=AT, prev_hash=prev)
        sealed.append(recorded)
        prev = recorded.hash
    return sealed


def registered(version: int) -> ModelRegistered:
    return ModelRegistered("churn", version, {}, [], "sha256:1", {}, {})


def promoted(version: int, to: str, replaced: int | None = None) -> ModelPromoted:
    return ModelPromoted("churn", version, "x", to, "evidence", "ok", replaced)


def proposed(version: str) -> FeatureProposed:
    return FeatureProposed("activity", version, "activity", "f", ["marketing"], None, None, [], {})


HISTORY: list[DomainEvent] = [
    TokenCreated("t1", "dana", "approver", ["product", "marketing"]),
    TokenCreated("t2", "vic", "viewer", []),
    TokenRevoked("t2", "vic"),
    registered(1),
    registered(2),
    registered(3),
    promoted(1, "challenger"),
    promoted(1, "production"),
    promoted(2, "challenger"),
    promoted(2, "production", replaced=1),
    ModelRolledBack("churn", 2, 1, automatic=True),
    ModelArchived("churn", 3, "candidate"),
    ModelFrozen("churn", "drift", "monitoring"),
    ModelUnfrozen("churn"),
    ModelFrozen("churn", "again", "hand"),
    proposed("1.0.0"),
    FeatureApprovalGiven("activity", "1.0.0", "marketing", "mia", []),
    FeatureApproved("activity", "1.0.0", "activity", "f", [{"team": "marketing"}]),
    proposed("2.0.0"),
    FeatureDeprecated("activity", "2.0.0", "proposed", None),
    LegacyFeatureImported("engaged", "1.0.0", "activity", "ds", "g", {}),
    DecisionRecorded("unrelated", "no state"),
]


def expected() -> LogState:
    return LogState(
        tokens={
            ("t1",): token_fields("dana", "approver", ["marketing", "product"], revoked=False),
            ("t2",): token_fields("vic", "viewer", [], revoked=True),
        },
        stages={
            ("churn", "1"): {"stage": "production"},
            ("churn", "2"): {"stage": "archived"},
            ("churn", "3"): {"stage": "archived"},
        },
        freezes={("churn",): freeze_fields(True)},
        features={
            ("activity", "1.0.0"): {"status": "approved"},
            ("activity", "2.0.0"): {"status": "deprecated"},
            ("engaged", "1.0.0"): {"status": "legacy"},
        },
        approvals={("activity", "1.0.0", "marketing"): {"person": "mia"}},
    )


def test_the_fold_rebuilds_every_state_table_from_the_events() -> None:
    assert fold_state(chain(HISTORY)) == expected()
    assert first_disagreement(fold_state(chain(HISTORY)), expected()) is None


def test_a_fold_until_a_position_leaves_later_events_out() -> None:
    fold = StateFold(until=3)
    for event in chain(HISTORY):
        fold.feed(event)
    assert set(fold.state.tokens) == {("t1",), ("t2",)}
    assert fold.state.stages == {}


def test_an_edited_stage_is_named_with_the_table_and_the_log() -> None:
    tables = expected()
    tables.stages[("churn", "2")] = {"stage": "production"}
    assert first_disagreement(fold_state(chain(HISTORY)), tables) == (
        "model churn v2: stage in table is production, the log says archived."
    )


@pytest.mark.parametrize(
    ("edit", "sentence"),
    [
        (
            lambda s: s.tokens.__setitem__(("t2",), token_fields("vic", "viewer", [], False)),
            "token t2: state in table is live, the log says revoked.",
        ),
        (
            lambda s: s.tokens.__setitem__(("t1",), token_fields("dana", "admin", [], False)),
            "token t1: role in table is admin, the log says approver.",
        ),
        (
            lambda s: s.tokens.__setitem__(("t9",), token_fields("eve", "approver", [], False)),
            "token t9: the table holds it but no event in the log records it.",
        ),
        (
            lambda s: s.freezes.__setitem__(("churn",), freeze_fields(False)),
            "model churn: freeze in table is not frozen, the log says frozen.",
        ),
        (
            lambda s: s.stages.pop(("churn", "3")),
            "model churn v3: the log records it but the table has no row for it.",
        ),
        (
            lambda s: s.features.__setitem__(("activity", "2.0.0"), {"status": "approved"}),
            "feature activity@2.0.0: status in table is approved, the log says deprecated.",
        ),
        (
            lambda s: s.approvals.__setitem__(("activity", "2.0.0", "product"), {"person": "x"}),
            "feature activity@2.0.0, team product's approval: the table holds it but no event "
            "in the log records it.",
        ),
    ],
)
def test_each_kind_of_disagreement_is_one_sentence(
    edit: Callable[[LogState], object], sentence: str
) -> None:
    tables = expected()
    edit(tables)
    assert first_disagreement(fold_state(chain(HISTORY)), tables) == sentence


# --- checkpoints ---------------------------------------------------------------------------


def statement(key: SigningKey, events: list[RecordedEvent], project: str = "shop") -> str:
    head = events[-1]
    return key.sign(
        project=project, events=len(events), head_seq=head.seq, head_hash=head.hash, at="T"
    ).to_line()


def listed(*lines: str) -> list[ListedCheckpoint]:
    return [
        ListedCheckpoint(SignedCheckpoint.parse_line(line, f"f line {n}"), f"f line {n}")
        for n, line in enumerate(lines, start=1)
    ]


def test_a_statement_is_canonical_json_with_its_signature() -> None:
    key = SigningKey.generate()
    line = statement(key, chain(HISTORY[:3]))
    raw = json.loads(line)
    assert list(raw) == ["signature", "statement"]
    assert raw["statement"] == {
        "at": "T",
        "events": 3,
        "head_hash": chain(HISTORY[:3])[-1].hash,
        "head_seq": 3,
        "key_id": key.public_key.key_id,
        "project": "shop",
        "scheme": "lucid-checkpoint-v1",
    }
    assert line == json.dumps(raw, sort_keys=True, separators=(",", ":"))
    parsed = SignedCheckpoint.parse_line(line, "f line 1")
    assert parsed.to_line() == line and key.public_key.verifies(parsed)
    pem = key.to_pem()
    assert SigningKey.from_pem(pem, "k").public_key == key.public_key
    assert PublicKey.from_text(key.public_key.text) == key.public_key


def test_a_changed_statement_no_longer_verifies() -> None:
    key = SigningKey.generate()
    line = statement(key, chain(HISTORY[:3])).replace('"events":3', '"events":2')
    anchors, refusal = accept_checkpoints(listed(line), [key.public_key], "shop")
    assert anchors == []
    assert refusal is not None and refusal.startswith("The checkpoint of T (f line 1) has a ")
    assert "does not verify with key" in refusal and "forged or altered" in refusal


def test_a_statement_signed_by_another_key_or_for_another_project_is_refused() -> None:
    ours, theirs = SigningKey.generate(), SigningKey.generate()
    events = chain(HISTORY[:3])
    _, foreign = accept_checkpoints(listed(statement(theirs, events)), [ours.public_key], "shop")
    assert foreign is not None and "is not a trusted public key" in foreign
    _, other = accept_checkpoints(
        listed(statement(ours, events, project="lab")), [ours.public_key], "shop"
    )
    assert other is not None and "is of project 'lab', not 'shop'" in other


@pytest.mark.parametrize("line", ["not json", '{"statement": {}, "signature": "AA=="}', "{}"])
def test_a_line_that_is_no_statement_is_named(line: str) -> None:
    with pytest.raises(InvalidInput, match="f line 1 is not a lucid-checkpoint-v1 statement"):
        SignedCheckpoint.parse_line(line, "f line 1")


def test_public_key_text_must_be_32_bytes() -> None:
    with pytest.raises(InvalidInput, match="32-byte Ed25519 public key"):
        PublicKey.from_text("c2hvcnQ=")


def verify(events: list[RecordedEvent], anchors: list[Anchor]) -> ChainVerdict:
    verifier = ChainVerifier(anchors)
    for event in events:
        verifier.feed(event)
    return verifier.verdict()


def anchor_of(events: list[RecordedEvent]) -> Anchor:
    return Anchor(len(events), events[-1].seq, events[-1].hash, "the checkpoint of T (f line 1)")


def test_a_log_shorter_than_a_checkpoint_fails_though_its_chain_holds() -> None:
    events = chain(HISTORY[:5])
    verdict = verify(events[:3], [anchor_of(events)])
    assert not verdict.ok and verdict.first_bad is None
    assert verdict.reason == (
        "The log holds 3 events but the checkpoint of T (f line 1) signed 5: events after "
        "position 3 were cut off."
    )
    assert verify(events, [anchor_of(events)]).ok
    assert verify(events, [anchor_of(events[:2])]).ok


def test_a_rewritten_and_rechained_log_fails_at_the_checkpoint() -> None:
    honest = chain(HISTORY[:5])
    rewritten = chain([*HISTORY[:1], TokenCreated("t2", "vic", "admin", []), *HISTORY[2:5]])
    assert verify(rewritten, []).ok  # the chain alone cannot tell
    verdict = verify(rewritten, [anchor_of(honest[:4])])
    assert not verdict.ok and verdict.first_bad == "e4"
    assert "signed" in (verdict.reason or "") and "rewritten at or before it" in (
        verdict.reason or ""
    )


# --- settings --------------------------------------------------------------------------------


def test_checkpoint_settings_resolve_against_the_project_and_the_environment(
    tmp_path: Path,
) -> None:
    folder = make_project(
        tmp_path / "p", log_checkpoints={"to": "audit/log.jsonl", "key": "keys/k.pem"}
    )
    settings = load_settings(folder, {}).log_checkpoints
    assert (settings.to, settings.key) == (str(folder / "audit/log.jsonl"), folder / "keys/k.pem")
    assert (settings.every_events, settings.every_minutes) == (1000, 60.0)
    environ = {"LUCID_CHECKPOINT_KEY": "/etc/lucid/k.pem", "LUCID_CHECKPOINT_TO": "s3://b/shop"}
    overridden = load_settings(folder, environ).log_checkpoints
    assert (overridden.to, overridden.key) == ("s3://b/shop", Path("/etc/lucid/k.pem"))
    make_project(tmp_path / "q", log_checkpoints={"every_events": 0})
    with pytest.raises(ConfigurationError, match=r"log_checkpoints\.every_events"):
        load_settings(tmp_path / "q", {})
