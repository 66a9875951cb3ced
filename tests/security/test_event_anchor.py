"""Issue 20, item 9: the log cut or rewritten by the database's administrator, and state tables
edited behind Lucid's back, on SQLite and PostgreSQL, through the SDK and the CLI.

The administrator here may do anything in the database (drop or disable the append-only
triggers, delete events, recompute the chain, edit any table) but cannot write where the
checkpoints are kept nor read the signing key.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.events import DecisionRecorded, NewEvent, Subject, event_hash
from lucid.contracts.log_checkpoints import SigningKey
from lucid.contracts.value import BusinessImpact
from lucid.errors import Conflict, IntegrityViolation, InvalidInput
from lucid.jobs.ticks import tick
from lucid.project import init_project
from lucid.registry.model_artifacts import ExternalArtifact
from lucid.settings import LogCheckpointSettings
from lucid.storage.log_checkpoints import write_signing_key
from tests.conftest import run_lucid
from tests.contract.test_registry import register, to_production
from tests.monitoring_world import http_receiver
from tests.security.stored_state import unchanged


@dataclass
class Shop:
    lucid: Lucid
    folder: Path
    env: dict[str, str]
    key: Path
    place: Path
    vic: str


def impact() -> BusinessImpact:
    return BusinessImpact(
        metric="retention_rate",
        direction="higher",
        baseline=0.80,
        target=0.82,
        measurement_period="30d",
        rollback_threshold=0.78,
        rationale="keep more customers",
    )


def decide(lucid: Lucid, title: str) -> None:
    lucid.events.append(
        NewEvent.of(
            DecisionRecorded(title=title, decision="noted"),
            actor="ana",
            subject=Subject("project", "shop"),
            rationale="a decision taken outside Lucid",
        )
    )


@pytest.fixture
def shop(tmp_path: Path, database_url: str) -> Iterator[Shop]:
    """Tokens (one revoked), churn v1 a challenger and v2 a candidate, churn frozen, then two
    decisions; a signing key and the checkpoint file outside the database."""
    env = {"LUCID_DATABASE_URL": database_url}
    init_project(tmp_path / "shop", actor="ana", environ=env).close()
    settings = tmp_path / "shop" / "lucid.yaml"
    config = yaml.safe_load(settings.read_text())
    config["approvers"] = ["bea"]  # a first version enters production by override
    settings.write_text(yaml.safe_dump(config))
    lucid = open_project(tmp_path / "shop", environ=env)
    lucid.tokens.create(
        person="dana", role="approver", teams=["product"], actor="ana", rationale="approves"
    )
    vic, _ = lucid.tokens.create(person="vic", role="viewer", teams=[], actor="ana", rationale="r")
    lucid.tokens.revoke(vic.token_id, actor="ana", rationale="left the company")
    for _ in (1, 2):
        lucid.registry.register_model(
            "churn",
            artifact=ExternalArtifact("churn-service"),
            impact=impact(),
            features=[],
            training_data="sha256:1",
            offline_metrics={"auc": 0.8},
            registered_by="ana",
            rationale="monthly retrain",
        )
    lucid.registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B test")
    lucid.registry.freeze("churn", reason="drift under investigation", actor="bea")
    decide(lucid, "first")
    decide(lucid, "second")
    key = tmp_path / "keys" / "checkpoint.pem"
    key.parent.mkdir()
    write_signing_key(key, SigningKey.generate())
    place = tmp_path / "elsewhere" / "log.jsonl"
    yield Shop(lucid, tmp_path / "shop", env, key, place, vic.token_id)
    lucid.close()


def as_administrator(lucid: Lucid, *statements: str | tuple[str, dict[str, object]]) -> None:
    """Run `statements` as the database's administrator, the append-only triggers off."""
    with lucid.db.transaction() as connection:
        if lucid.db.is_sqlite:
            connection.execute(text("DROP TRIGGER IF EXISTS events_append_only_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS events_append_only_delete"))
        else:
            connection.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        for statement in statements:
            sql, values = statement if isinstance(statement, tuple) else (statement, {})
            connection.execute(text(sql), values)
        if not lucid.db.is_sqlite:
            connection.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))


def rewrite_and_rechain(lucid: Lucid, seq: int, type: str, payload: dict[str, str]) -> None:
    """Replace the event at `seq` and recompute every hash from there, as an administrator."""
    with lucid.db.transaction() as connection:
        rows = connection.execute(text("SELECT * FROM events ORDER BY seq")).mappings().all()
    statements: list[str | tuple[str, dict[str, object]]] = []
    prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
    for row in rows[seq - 1 :]:
        fields = dict(row)
        if row["seq"] == seq:
            fields["type"] = type
            fields["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        digest = event_hash(
            fields["seq"],
            fields["id"],
            fields["type"],
            fields["occurred_at"],
            fields["recorded_at"],
            fields["actor"],
            fields["subject"],
            fields["payload"],
            fields["rationale"],
            prev,
        )
        statements.append(
            (
                "UPDATE events SET type = :type, payload = :payload, prev_hash = :prev, "
                "hash = :hash WHERE seq = :seq",
                {**fields, "prev": prev, "hash": digest},
            )
        )
        prev = digest
    as_administrator(lucid, *statements)


def audit(shop: Shop, *, anchored: bool = True) -> str | None:
    """The first problem `verify` names (None: it passes); it changes nothing stored."""
    with unchanged(shop.lucid):
        checkpoints = [str(shop.place)] if anchored else []
        return shop.lucid.anchor.verify(checkpoints).problem


def test_the_honest_log_passes_with_its_checkpoints(shop: Shop) -> None:
    first = shop.lucid.anchor.checkpoint(str(shop.place), str(shop.key))
    decide(shop.lucid, "third")
    second = shop.lucid.anchor.checkpoint(str(shop.place), str(shop.key))
    assert second.checkpoint.events == first.checkpoint.events + 1
    assert len(shop.place.read_text().splitlines()) == 2  # appended, never rewritten
    result = shop.lucid.anchor.verify([str(shop.place)])
    assert (result.ok, result.checkpoints, result.events) == (True, 2, second.checkpoint.events)
    assert audit(shop, anchored=False) is None


def test_a_cut_tail_passes_the_chain_but_fails_against_the_checkpoint(shop: Shop) -> None:
    signed = shop.lucid.anchor.checkpoint(str(shop.place), str(shop.key))
    total = signed.checkpoint.events
    as_administrator(shop.lucid, f"DELETE FROM events WHERE seq > {total - 2}")
    assert shop.lucid.events.verify().ok  # the chain alone cannot see it
    assert audit(shop, anchored=False) is None
    assert audit(shop) == (
        f"The log holds {total - 2} events but the checkpoint of {signed.checkpoint.at} "
        f"({shop.place} line 1) signed {total}: events after position {total - 2} were cut off."
    )
    before = shop.place.read_text()
    with pytest.raises(IntegrityViolation, match=r"No checkpoint was written.*cut off"):
        shop.lucid.anchor.checkpoint(str(shop.place), str(shop.key))
    assert shop.place.read_text() == before


def test_a_rewritten_and_rechained_log_fails_at_the_checkpoint(shop: Shop) -> None:
    signed = shop.lucid.anchor.checkpoint(str(shop.place), str(shop.key))
    revoked = shop.lucid.events.read(type="TokenRevoked")[0]
    # Un-revoke vic's token: the revocation becomes a harmless decision, the chain is
    # recomputed after it, and the table follows, so the log and the tables agree again.
    rewrite_and_rechain(
        shop.lucid, revoked.seq, "DecisionRecorded", {"title": "t", "decision": "d"}
    )
    as_administrator(shop.lucid, f"UPDATE api_tokens SET revoked_at = NULL WHERE id = '{shop.vic}'")
    assert shop.lucid.events.verify().ok
    assert audit(shop, anchored=False) is None
    problem = audit(shop)
    head = shop.lucid.events.read(after=signed.checkpoint.head_seq - 1, limit=1)[0]
    assert problem is not None
    assert problem.startswith(f"The event chain is broken at event {head.id}. Event {head.id} ")
    assert f"but the checkpoint of {signed.checkpoint.at} ({shop.place} line 1) signed" in problem
    assert "rewritten at or before it and its chain recomputed" in problem


def test_a_forged_checkpoint_fails(shop: Shop) -> None:
    shop.lucid.anchor.checkpoint(str(shop.place), str(shop.key))
    line = shop.place.read_text()
    statement = json.loads(line)["statement"]
    forged = line.replace(f'"events":{statement["events"]}', '"events":2')
    shop.place.write_text(forged)
    problem = audit(shop)
    assert problem is not None and "has a signature that does not verify with key" in problem
    # A statement signed with the attacker's own key is not trusted either.
    attacker = SigningKey.generate().sign(
        project="shop", events=1, head_seq=1, head_hash="0" * 64, at=statement["at"]
    )
    shop.place.write_text(line + attacker.to_line() + "\n")
    problem = audit(shop)
    assert problem is not None
    assert f"names signing key {attacker.checkpoint.key_id}, which is not a trusted" in problem


@pytest.mark.parametrize(
    ("edit", "sentence"),
    [
        (
            "UPDATE model_versions SET stage = 'production' WHERE name = 'churn' AND version = 1",
            "model churn v1: stage in table is production, the log says challenger.",
        ),
        (
            "UPDATE api_tokens SET revoked_at = NULL WHERE person = 'vic'",
            "token {vic}: state in table is live, the log says revoked.",
        ),
        (
            "UPDATE registered_models SET frozen_reason = NULL, frozen_by = NULL",
            "model churn: freeze in table is not frozen, the log says frozen.",
        ),
        (
            "INSERT INTO feature_approvals VALUES ('activity', '1.0.0', 'product', 'eve', "
            "'2026-12-01T00:00:00.000000Z', 'nobody asked')",
            "feature activity@1.0.0, team product's approval: the table holds it but no event "
            "in the log records it.",
        ),
    ],
)
def test_a_state_table_edited_behind_lucids_back_is_named(
    shop: Shop, edit: str, sentence: str
) -> None:
    assert audit(shop, anchored=False) is None
    as_administrator(shop.lucid, edit)
    problem = audit(shop, anchored=False)
    assert problem == "A state table disagrees with the log: " + sentence.format(vic=shop.vic)


def test_the_scheduler_publishes_checkpoints_when_due(shop: Shop) -> None:
    settings = shop.lucid.settings.model_copy(
        update={
            "log_checkpoints": LogCheckpointSettings(
                to=str(shop.place), key=shop.key, every_events=2, every_minutes=60
            )
        }
    )
    lucid = Lucid(
        settings=settings, db=shop.lucid.db, events=shop.lucid.events, uows=shop.lucid.uows
    )
    head = lucid.events.count()
    assert tick(lucid).log_checkpoint == head  # the first tick anchors the log as it is
    assert tick(lucid).log_checkpoint is None  # nothing new
    decide(lucid, "third")
    assert tick(lucid).log_checkpoint is None  # one event, one minute: not yet due
    decide(lucid, "fourth")
    assert tick(lucid).log_checkpoint == head + 2
    assert len(shop.place.read_text().splitlines()) == 2
    assert lucid.anchor.verify([str(shop.place)]).checkpoints == 2


def test_checkpoints_go_to_a_webhook_or_an_object_store(shop: Shop) -> None:
    with http_receiver() as receiver:
        signed = shop.lucid.anchor.checkpoint(receiver.url + "/anchor", str(shop.key))
    assert receiver.received == [("/anchor", json.loads(signed.to_line()))]
    folder = f"memory://anchor-{os.getpid()}-{id(shop)}/checkpoints"
    shop.lucid.anchor.checkpoint(folder, str(shop.key))
    decide(shop.lucid, "third")
    shop.lucid.anchor.checkpoint(folder, str(shop.key))
    assert shop.lucid.anchor.verify([folder]).checkpoints == 2
    as_administrator(shop.lucid, "DELETE FROM events WHERE seq > 1")
    problem = shop.lucid.anchor.verify([folder]).problem
    assert problem is not None and "were cut off" in problem


def lucid_cli(shop: Shop, *args: str) -> tuple[int, str, str]:
    result = run_lucid("--project", str(shop.folder), *args, env=shop.env)
    return result.code, result.stdout, " ".join(result.stderr.split())


def test_the_cli_keygen_checkpoint_and_verify(shop: Shop, tmp_path: Path) -> None:
    key = tmp_path / "cli.pem"
    code, out, _ = lucid_cli(shop, "events", "keygen", str(key))
    assert code == 0 and stat.S_IMODE(key.stat().st_mode) == 0o600
    public = out.split("public key: ")[1].split()[0]
    code, _, err = lucid_cli(shop, "events", "keygen", str(key))
    assert code != 0 and "already exists; a signing key is never overwritten" in err
    assert (
        lucid_cli(shop, "events", "checkpoint", "--to", str(shop.place), "--key", str(key))[0] == 0
    )
    code, out, _ = lucid_cli(shop, "events", "verify")
    assert code == 0 and "proves only that the log agrees with itself" in " ".join(out.split())
    args = ("events", "verify", "--checkpoint", str(shop.place), "--public-key", public)
    code, out, _ = lucid_cli(shop, *args)
    assert code == 0 and "matches 1 signed checkpoint(s)" in " ".join(out.split())

    as_administrator(shop.lucid, "DELETE FROM events WHERE seq > 2")
    with unchanged(shop.lucid):
        code, _, err = lucid_cli(shop, *args)
    assert code == IntegrityViolation.exit_code != 0
    assert err.startswith("error: The log holds 2 events but the checkpoint of ")
    assert err.endswith("events after position 2 were cut off.")

    other = SigningKey.generate().public_key.text
    code, _, err = lucid_cli(
        shop, "events", "verify", "--checkpoint", str(shop.place), "--public-key", other
    )
    assert code != 0 and "which is not a trusted public key" in err


def test_the_cli_names_an_edited_stage(shop: Shop) -> None:
    as_administrator(shop.lucid, "UPDATE model_versions SET stage = 'archived' WHERE version = 2")
    code, _, err = lucid_cli(shop, "events", "verify")
    assert code == IntegrityViolation.exit_code
    assert err == (
        "error: A state table disagrees with the log: model churn v2: stage in table is "
        "archived, the log says candidate."
    )
    code, out, _ = lucid_cli(shop, "events", "verify", "--json")
    assert code != 0 and json.loads(out)["reason"].endswith("the log says candidate.")


def test_a_signing_key_is_never_overwritten(shop: Shop) -> None:
    with pytest.raises(Conflict, match="never overwritten"):
        write_signing_key(shop.key, SigningKey.generate())


def test_a_checkpoint_place_without_statements_is_refused(shop: Shop) -> None:
    shop.place.parent.mkdir()
    shop.place.write_text("")
    with pytest.raises(InvalidInput, match="holds no checkpoint statement"):
        shop.lucid.anchor.verify([str(shop.place)])


def test_an_honest_registry_story_agrees_with_its_tables(shop: Shop) -> None:
    registry = shop.lucid.registry
    registry.unfreeze("churn", actor="bea", rationale="drift explained")
    for version in (3, 4):
        register(registry, features=[])
        to_production(registry, version)
    registry.rollback("churn", actor="bea", rationale="v4 lost customers")
    registry.archive("churn", 2, actor="ana", rationale="superseded")
    registry.freeze("churn", reason="until the post-mortem", actor="bea")
    assert [v.stage.value for v in registry.versions("churn")] == [
        "challenger",
        "archived",
        "production",
        "archived",
    ]
    assert audit(shop, anchored=False) is None
    as_administrator(
        shop.lucid,
        "UPDATE model_versions SET stage = 'archived' WHERE version = 3",
        "UPDATE model_versions SET stage = 'production' WHERE version = 4",
    )
    assert audit(shop, anchored=False) == (
        "A state table disagrees with the log: model churn v3: stage in table is archived, "
        "the log says production."
    )


def test_lucid_schedule_publishes_to_the_place_the_environment_names(shop: Shop) -> None:
    env = {"LUCID_CHECKPOINT_KEY": str(shop.key), "LUCID_CHECKPOINT_TO": str(shop.place)}
    result = run_lucid(
        "--project", str(shop.folder), "schedule", "--once", "--json", env={**shop.env, **env}
    )
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["log_checkpoint"] == shop.lucid.events.count()
    assert shop.lucid.anchor.verify([str(shop.place)]).checkpoints == 1


def test_the_scheduler_refuses_to_sign_a_cut_log_even_for_a_webhook(shop: Shop) -> None:
    with http_receiver() as receiver:
        settings = shop.lucid.settings.model_copy(
            update={
                "log_checkpoints": LogCheckpointSettings(
                    to=receiver.url + "/anchor", key=shop.key, every_events=1
                )
            }
        )
        lucid = Lucid(
            settings=settings, db=shop.lucid.db, events=shop.lucid.events, uows=shop.lucid.uows
        )
        head = lucid.events.count()
        assert tick(lucid).log_checkpoint == head
        as_administrator(lucid, f"DELETE FROM events WHERE seq > {head - 2}")
        decide(lucid, "after the cut")
        report = tick(lucid)
    assert report.log_checkpoint is None
    assert len(receiver.received) == 1
    assert report.errors == [
        f"log checkpoint: No checkpoint was written. The log holds {head - 1} events but the "
        f"checkpoint this process last published ({receiver.received[0][1]['statement']['at']}) "
        f"signed {head}: events after position {head - 1} were cut off."
    ]


def test_verify_names_a_prediction_segment_altered_on_disk(tmp_path: Path) -> None:
    """The columnar log's bytes are part of the audit: a registered segment rewritten or
    removed fails `lucid events verify`, naming the segment."""
    with init_project(tmp_path / "shop", actor="ana", environ={}) as lucid:
        _check_segment_audit(lucid, tmp_path / "shop")


def _check_segment_audit(lucid: Lucid, folder: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from lucid.monitoring import predictions
    from lucid.storage.prediction_log import SqlPredictionLog

    root = lucid.settings.data_dir / "prediction_log"
    served = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [
        {
            "entity": f"c{i}",
            "served_at": served + timedelta(minutes=i),
            "features": {"tenure": float(i)},
            "score": 0.5,
        }
        for i in range(20)
    ]
    predictions.log_predictions(SqlPredictionLog(lucid.db, root, segment_rows=10), "churn", 1, rows)
    assert lucid.anchor.verify().ok
    [segment] = list(root.rglob("*.parquet"))
    segment.write_bytes(segment.read_bytes()[:-8] + b"tampered")
    audit = lucid.anchor.verify()
    assert not audit.ok and audit.problem is not None
    assert "SHA-256" in audit.problem and segment.name in audit.problem
    result = run_lucid("events", "verify", "--json", cwd=folder)
    assert result.code == 1 and segment.name in json.loads(result.stdout)["reason"]
    segment.unlink()
    assert segment.name in (lucid.anchor.verify().problem or "")


def test_verify_names_an_outcome_segment_altered_on_disk(tmp_path: Path) -> None:
    """Outcome segments are audited as prediction segments are."""
    from datetime import UTC, datetime, timedelta

    from lucid.monitoring import predictions
    from lucid.storage.prediction_log import SqlPredictionLog

    with init_project(tmp_path / "shop", actor="ana", environ={}) as lucid:
        log = SqlPredictionLog(
            lucid.db, lucid.settings.data_dir / "prediction_log", segment_rows=10
        )
        served = datetime(2026, 11, 2, tzinfo=UTC)
        rows = [
            {"entity": f"c{i}", "served_at": served, "features": {"x": 1.0}, "score": 0.5}
            for i in range(5)
        ]
        ids = predictions.log_predictions(log, "churn", 1, rows * 2)
        outcomes = [{"prediction_id": i, "label": 1, "observed_at": served} for i in ids]
        predictions.log_outcomes(log, "churn", outcomes, now=served + timedelta(days=1))
        assert lucid.anchor.verify().ok
        [segment] = list(
            (lucid.settings.data_dir / "prediction_log" / "outcomes").rglob("*.parquet")
        )
        segment.write_bytes(segment.read_bytes()[:-8] + b"tampered")
        audit = lucid.anchor.verify()
        assert not audit.ok and segment.name in (audit.problem or "")


def test_verify_names_a_served_segment_altered_on_disk(tmp_path: Path) -> None:
    """Sealed served feature values are audited as prediction segments are."""
    from datetime import UTC, datetime

    from lucid.contracts.semantic.skew import ServedValue
    from lucid.features.serving import log_served_values

    with init_project(tmp_path / "shop", actor="ana", environ={}) as lucid:
        values = [ServedValue(f"c{i}", "f@1.0.0", float(i), None, "fresh") for i in range(5)]
        log_served_values(lucid.uows, values, datetime(2026, 11, 2, tzinfo=UTC))
        assert lucid.monitoring.seal().served == 4  # all but the last value
        assert lucid.anchor.verify().ok
        [segment] = list((lucid.settings.data_dir / "prediction_log" / "served").rglob("*.parquet"))
        segment.write_bytes(segment.read_bytes()[:-8] + b"tampered")
        audit = lucid.anchor.verify()
        assert not audit.ok and segment.name in (audit.problem or "")
        result = run_lucid("events", "verify", "--json", cwd=tmp_path / "shop")
        assert result.code == 1 and segment.name in json.loads(result.stdout)["reason"]
