"""Issue 20, item 8: validation gaps. A trailing newline in a name, an unknown key, a negative
PSI threshold, a list where a column name is expected and a 400-character name are each
refused with one sentence naming the field and the rule, through the SDK and the CLI, on
SQLite and on PostgreSQL, and nothing stored changes. A value only the database refuses
(too long for its column, a NUL) is a sentence too, never a driver error with exit 70."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.validity import MonitoringPolicy
from lucid.errors import Conflict, InvalidInput
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from lucid.storage.database import Database
from lucid.storage.tables import api_tokens
from tests.conftest import new_project, run_lucid
from tests.security.stored_state import unchanged

CANONICAL = yaml.safe_load(CANONICAL_DEFINITIONS.read_text(encoding="utf-8"))
LONG = "a" * 400
CONTROL_IN_ACTOR = r"^actor: must not contain control characters \(U\+000[AD]"
V1 = "customer_activity_30d@1.0.0"


@pytest.fixture(params=["sqlite", "postgresql"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project with the canonical definitions approved; its environment (PostgreSQL's URL)."""
    folder = tmp_path / "shop"
    url = request.getfixturevalue("postgres_schema") if request.param == "postgresql" else None
    return folder, _approved_canonical(folder, url)


def _approved_canonical(folder: Path, database_url: str | None) -> dict[str, str]:
    """A new project with the sample activity and the canonical definitions approved by each
    team; its environment."""
    environ = new_project(folder, database_url)
    write_sample_activity(folder)
    with open_project(folder, environ=environ) as lucid:
        lucid.features.apply(load_definitions(CANONICAL_DEFINITIONS), actor="dana", rationale="r")
        for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "pm")):
            lucid.features.approve(V1, team=team, person=person, rationale="ok")
    return environ


@pytest.fixture
def lucid(project: tuple[Path, dict[str, str]]) -> Iterator[Lucid]:
    folder, environ = project
    with open_project(folder, environ=environ) as handle:
        yield handle


def _definitions(tmp_path: Path, change: dict[str, Any], *, section: str = "features") -> Path:
    """A definition file holding the canonical feature (or first source) with `change`."""
    item = {**copy.deepcopy(CANONICAL[section][0]), **change}
    file = tmp_path / f"definitions_{abs(hash(str(change)))}.yaml"
    file.write_text(yaml.safe_dump({section: [item]}), encoding="utf-8")
    return file


def _policy_file(tmp_path: Path, change: dict[str, Any]) -> Path:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["thresholds"][0].update(change)
    file = tmp_path / "policy.yaml"
    file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return file


# -- SDK ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_sdk_refuses_names_ending_with_a_line_end(
    lucid: Lucid, tmp_path: Path, ending: str
) -> None:
    feature = _definitions(tmp_path, {"name": "customer_activity_7d" + ending})
    source = _definitions(tmp_path, {"name": "purchases_v2" + ending}, section="sources")
    renamed = _definitions(tmp_path, {"name": "customer_activity_7d"})
    with unchanged(lucid):
        with pytest.raises(InvalidInput, match=r"name: 'customer_activity_7d(\\r)?\\n' must be"):
            lucid.features.apply(load_definitions(feature), actor="dana", rationale="r")
        with pytest.raises(InvalidInput, match=r"source\.name: 'purchases_v2(\\r)?\\n' must be"):
            lucid.features.apply(load_definitions(source), actor="dana", rationale="r")
        with pytest.raises(InvalidInput, match=CONTROL_IN_ACTOR):
            lucid.features.apply(load_definitions(renamed), actor="dana" + ending, rationale="r")
        with pytest.raises(InvalidInput, match=r"person: must not contain control characters"):
            lucid.tokens.create(
                person="dana" + ending + "x", role="viewer", teams=[], actor="dana", rationale="r"
            )


def test_sdk_refuses_400_character_names_before_the_database(lucid: Lucid, tmp_path: Path) -> None:
    feature = _definitions(tmp_path, {"name": LONG})
    renamed = _definitions(tmp_path, {"name": "customer_activity_7d"})
    with unchanged(lucid):
        with pytest.raises(InvalidInput, match=r"name: must be at most 100 characters, not 400"):
            lucid.features.apply(load_definitions(feature), actor="dana", rationale="r")
        with pytest.raises(InvalidInput, match="person: must be at most 200 characters, not 400"):
            lucid.tokens.create(person=LONG, role="viewer", teams=[], actor="dana", rationale="r")
        with pytest.raises(InvalidInput, match="actor: must be at most 200 characters, not 400"):
            lucid.features.apply(load_definitions(renamed), actor=LONG, rationale="r")


def test_sdk_refuses_unknown_keys_and_levels_naming_the_nearest(lucid: Lucid) -> None:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["thresholds"][0]["critcal"] = raw["thresholds"][0].pop("critical")
    with unchanged(lucid):
        with pytest.raises(InvalidInput) as refused:
            lucid.monitoring.set_policy(
                MonitoringPolicy.from_mapping(raw), actor="dana", rationale="r"
            )
        assert str(refused.value) == "thresholds[0].critcal: unknown key; did you mean critical?"
        with pytest.raises(
            InvalidInput, match=r"^level: 'critcal' is not one of warning, critical"
        ):
            lucid.incidents.open("churn", summary="s", level="critcal", actor="dana")


def test_sdk_refuses_a_negative_psi_threshold(lucid: Lucid) -> None:
    raw = MonitoringPolicy.churn_default("churn").to_mapping()
    raw["thresholds"][0]["warning"] = -0.1
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        lucid.monitoring.set_policy(MonitoringPolicy.from_mapping(raw), actor="dana", rationale="r")
    assert str(refused.value) == "thresholds[0].warning: a psi threshold must be ≥ 0, not -0.1"


def test_sdk_refuses_a_list_where_a_column_is_expected(lucid: Lucid, tmp_path: Path) -> None:
    source = _definitions(tmp_path, {"ingestion_time": ["at"]}, section="sources")
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        lucid.features.apply(load_definitions(source), actor="dana", rationale="r")
    assert str(refused.value) == (
        f"{source}: source purchases.ingestion_time: must be a column name (text), not a list"
    )


def test_sdk_refuses_a_nul_in_a_rationale_on_both_databases(lucid: Lucid, tmp_path: Path) -> None:
    renamed = _definitions(tmp_path, {"name": "customer_activity_7d"})
    with unchanged(lucid), pytest.raises(InvalidInput) as refused:
        lucid.features.apply(load_definitions(renamed), actor="dana", rationale="why\x00not")
    assert str(refused.value) == "rationale: must not contain the NUL character (0x00)"


# -- CLI ---------------------------------------------------------------------------------------


def _cli_refuses(environ: dict[str, str], *args: str) -> str:
    result = run_lucid(*args, env=environ)
    assert result.code == 1, result
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    return " ".join(result.stderr.split())  # Rich wraps long sentences


def test_cli_refuses_the_issues_examples_with_a_sentence(
    project: tuple[Path, dict[str, str]], lucid: Lucid, tmp_path: Path
) -> None:
    """`ingestion_time: [at]` and a 400-character name exited 70 with a driver error on
    PostgreSQL; both are one sentence and exit 1 now, on both databases."""
    _, environ = project
    listed = _definitions(tmp_path, {"ingestion_time": ["at"]}, section="sources")
    long_feature = _definitions(tmp_path, {"name": LONG})
    long_source = _definitions(tmp_path, {"name": "p" * 400}, section="sources")
    with unchanged(lucid):
        said = _cli_refuses(environ, "features", "apply", str(listed), "--rationale", "r")
        assert "source purchases.ingestion_time: must be a column name (text), not a list" in said
        said = _cli_refuses(environ, "features", "apply", str(long_feature), "--rationale", "r")
        assert "name: must be at most 100 characters, not 400" in said
        said = _cli_refuses(environ, "features", "apply", str(long_source), "--rationale", "r")
        assert "source.name: must be at most 100 characters, not 400" in said
        said = _cli_refuses(environ, "tokens", "create", "--person", LONG, "--role", "viewer")
        assert "person: must be at most 200 characters, not 400" in said
        said = _cli_refuses(environ, "features", "approve", V1, "--team", "marketing", "--as", LONG)
        assert "actor: must be at most 200 characters, not 400" in said


def test_cli_refuses_policy_files_with_a_sentence(
    project: tuple[Path, dict[str, str]], lucid: Lucid, tmp_path: Path
) -> None:
    _, environ = project
    with unchanged(lucid):
        negative = _policy_file(tmp_path, {"warning": -0.1})
        said = _cli_refuses(
            environ, "monitor", "policy", "set", "churn", str(negative), "--rationale", "r"
        )
        assert "thresholds[0].warning: a psi threshold must be ≥ 0, not -0.1" in said
        misspelt = _policy_file(tmp_path, {"critcal": 0.3})
        said = _cli_refuses(
            environ, "monitor", "policy", "set", "churn", str(misspelt), "--rationale", "r"
        )
        assert "thresholds[0].critcal: unknown key; did you mean critical?" in said


def test_cli_refuses_a_misspelt_decision_file(
    project: tuple[Path, dict[str, str]], lucid: Lucid, tmp_path: Path
) -> None:
    _, environ = project
    decision = tmp_path / "decision.yaml"
    decision.write_text(yaml.safe_dump({"hypothesis": [{"description": "keeps customers"}]}))
    with unchanged(lucid):
        said = _cli_refuses(
            environ, "deploy", "churn", "1", "--decision", str(decision), "--rationale", "r"
        )
        assert "--decision.hypothesis: unknown key; did you mean hypotheses?" in said


# -- the database's own refusals, on PostgreSQL ---------------------------------------------


@pytest.fixture
def postgres_project(tmp_path: Path, postgres_schema: str) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "pg"
    return folder, _approved_canonical(folder, postgres_schema)


def test_a_value_too_long_for_its_column_is_a_sentence_through_the_cli(
    postgres_project: tuple[Path, dict[str, str]],
) -> None:
    """No contract bounds an entity id; PostgreSQL's column does, and its refusal reaches
    the user as the column's name and width, exit 1, nothing logged."""
    folder, environ = postgres_project
    with open_project(folder, environ=environ) as lucid, unchanged(lucid):
        said = _cli_refuses(environ, "features", "get", "e" * 400, "--features", V1, "--log")
        assert "entity: is too long: at most 200 characters, not 400" in said


def test_the_databases_refusals_name_the_column(postgres_schema: str) -> None:
    from lucid.storage import schema

    db = Database(postgres_schema)
    schema.upgrade(db)
    row = {
        "id": "t1",
        "secret_sha256": "0" * 64,
        "person": "dana",
        "role": "viewer",
        "teams": "[]",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "created_by": "dana",
    }
    try:
        too_long = pytest.raises(InvalidInput, match=r"^person: is too long: at most 200 char")
        with too_long, db.transaction() as connection:
            connection.execute(api_tokens.insert().values(**{**row, "person": LONG}))
        nul = pytest.raises(InvalidInput, match=r"^person: must not contain the NUL character")
        with nul, db.transaction() as connection:
            connection.execute(api_tokens.insert().values(**{**row, "person": "da\x00na"}))
        with db.transaction() as connection:
            connection.execute(api_tokens.insert().values(**row))
        twice = pytest.raises(Conflict, match=r"^id t1 already exists")
        with twice, db.transaction() as connection:
            connection.execute(api_tokens.insert().values(**{**row, "secret_sha256": "1"}))
        too_long = pytest.raises(InvalidInput, match=r"^value: a text is too long: at most 200")
        with too_long, db.raw_write_transaction() as cursor:
            cursor.execute(
                "INSERT INTO api_tokens (id, secret_sha256, person, role, teams, created_at,"
                " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                ("t2", "2", LONG, "viewer", "[]", row["created_at"], "dana"),
            )
    finally:
        db.dispose()
