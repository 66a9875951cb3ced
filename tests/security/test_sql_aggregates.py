"""Issue 20, item 4: a definition's `sql` aggregate cannot look outside its source.

Each attack is refused at `features apply` (SDK and CLI) with one sentence naming the feature,
the field and the rule, and nothing stored changes; a definition stored by other means is
refused when compiled, not run; and a DuckDB connection of Lucid reads no outside file and
installs no extension even when handed raw SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.semantic import SqlAggregate, Status, Version
from lucid.engines.duckdb import DuckDBEngine
from lucid.errors import Conflict, InvalidInput
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS
from tests.conftest import run_lucid
from tests.security.stored_state import unchanged
from tests.unit.test_feature_sql import T, write_events

SECRET = "lucid-sql-aggregate-secret"


@pytest.fixture
def outside_file(tmp_path: Path) -> Path:
    """A file outside the project that no definition may read."""
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    write_events(folder)
    return folder


@pytest.fixture
def lucid(project: Path) -> Iterator[Lucid]:
    handle = open_project(project)
    handle.features.apply(
        load_definitions(_write(project, "paid", "COALESCE(SUM(amount), 0)")),
        actor="dana",
        rationale="the sources and one legitimate sql aggregate",
    )
    yield handle
    handle.close()


def _write(project: Path, name: str, expression: str) -> Path:
    """A definitions file: the seed's sources and one feature computed by `expression`."""
    seed = yaml.safe_load(CANONICAL_DEFINITIONS.read_text())
    feature: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "concept": name,
        "description": "A sql aggregate over purchases.",
        "owner": "finance",
        "entity": "customer",
        "value_type": "float",
        "window": "30d",
        "required_approvals": ["finance"],
        "computation": {"sql": {"source": "purchases", "expression": expression}},
    }
    path = project / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"sources": seed["sources"], "features": [feature]}))
    return path


def attacks(outside: Path) -> list[tuple[str, str]]:
    """(expression, the rule its refusal must state)."""
    return [
        (f"SUMMARIZE '{outside}'", "must be one expression, not a statement (SUMMARIZE)"),
        (f"MAX(LENGTH((SUMMARIZE '{outside}')))", "may not use SUMMARIZE"),
        (f"COUNT(*) + LENGTH(read_text('{outside}'))", "may not call read_text"),
        ("(SELECT MAX(amount) FROM source_purchases)", "may not contain a subquery"),
        ("INSTALL httpfs", "must be one expression, not a statement (INSTALL)"),
        ("LOAD httpfs", "must be one expression, not a statement (LOAD)"),
        ("SUM(price)", "uses column price, which source purchases does not have"),
        ("SUM(amount); INSTALL httpfs", "may not contain ';'"),
        (
            "SUM(amount) + LENGTH('https://example.com/x.parquet')",
            "may not contain a file path or URL",
        ),
    ]


ATTACKS = attacks(Path("/outside/secret.txt"))
IDS = ["summarize", "summarize-inside", "read_text", "subquery", "install", "load", "column",
       "stacked", "url"]  # fmt: skip


@pytest.mark.parametrize("case", range(len(ATTACKS)), ids=IDS)
def test_an_attack_is_refused_at_apply_through_the_sdk(
    lucid: Lucid, project: Path, outside_file: Path, case: int
) -> None:
    expression, rule = attacks(outside_file)[case]
    definitions = load_definitions(_write(project, "probe", expression))
    with unchanged(lucid), pytest.raises(Conflict) as refused:
        lucid.features.apply(definitions, actor="dana", rationale="an attack")
    sentence = str(refused.value)
    assert "probe.computation.sql: " in sentence and rule in sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")
    assert SECRET not in sentence


@pytest.mark.parametrize("case", range(len(ATTACKS)), ids=IDS)
def test_an_attack_is_refused_at_apply_through_the_cli(
    lucid: Lucid, project: Path, outside_file: Path, case: int
) -> None:
    expression, rule = attacks(outside_file)[case]
    path = _write(project, "probe", expression)
    with unchanged(lucid):
        result = run_lucid(
            "features", "apply", str(path), "--rationale", "an attack", "--as", "dana", cwd=project
        )
    assert result.code != 0
    assert "probe.computation.sql: " in result.stderr and rule in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_legitimate_sql_aggregate_is_applied_and_computes(lucid: Lucid) -> None:
    [paid] = [g.definition for g in lucid.features.definitions() if g.definition.name == "paid"]
    values = lucid.engine.compute(paid, lucid.features.sources(), [("alice", T), ("dave", T)])
    # alice's paid purchases in the 30 days to T (bots and tests are not excluded here)
    assert values[("alice", T)] == pytest.approx(20.0 + 35.0 + 5.0 + 50.0 + 1.0)
    assert values[("dave", T)] == 0.0


def test_a_stored_definition_that_breaks_the_rule_is_refused_when_compiled(
    lucid: Lucid, outside_file: Path
) -> None:
    """A definition stored before the rule existed (here written straight to the registry)
    is refused where SQL is written, for every dialect, and never run."""
    [paid] = [g.definition for g in lucid.features.definitions() if g.definition.name == "paid"]
    bad = replace(
        paid,
        version=Version(1, 1, 0),
        computation=SqlAggregate("purchases", f"MAX(read_text('{outside_file}'))"),
    )
    with lucid.uows() as uow:
        uow.features.add_definition(
            bad, status=Status.PROPOSED, origin="proposed", actor="dana", at=datetime.now(UTC)
        )
    for dialect in ("duckdb", "spark"):
        with pytest.raises(InvalidInput, match=r"paid\.computation\.sql: may not call read_text"):
            lucid.features.sql("paid@1.1", dialect=dialect)
    with pytest.raises(InvalidInput, match="may not call read_text"):
        lucid.engine.compute(bad, lucid.features.sources(), [("alice", T)])


def test_a_lucid_connection_reads_no_outside_file_even_given_raw_sql(
    lucid: Lucid, outside_file: Path
) -> None:
    engine = DuckDBEngine(lucid.settings.project_dir)
    try:
        [paid] = [g.definition for g in lucid.features.definitions() if g.definition.name == "paid"]
        assert engine.compute(paid, lucid.features.sources(), [("alice", T)])[("alice", T)] > 0
        for raw in (
            f"SELECT content FROM read_text('{outside_file}')",
            f"SELECT * FROM read_csv('{outside_file}')",
            f"SUMMARIZE '{outside_file}'",
            f"SELECT * FROM glob('{outside_file.parent}/*')",
            "SELECT * FROM 'https://example.com/x.parquet'",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SET enable_external_access = true",
            "SET allowed_directories = ['/']",
        ):
            with pytest.raises(duckdb.Error) as refused:
                engine.query(raw)
            assert SECRET not in str(refused.value)
        # the sources it was given still read, after the lock as before
        again = engine.compute(paid, lucid.features.sources(), [("alice", T)])
        assert again[("alice", T)] == pytest.approx(111.0)
    finally:
        engine.close()


def test_a_fresh_engine_handed_raw_sql_is_confined_first(outside_file: Path) -> None:
    with DuckDBEngine(outside_file.parent.parent) as engine:
        with pytest.raises(duckdb.Error):
            engine.query(f"SELECT content FROM read_text('{outside_file}')")
        [(autoload, autoinstall)] = engine.query(
            "SELECT current_setting('autoload_known_extensions'), "
            "current_setting('autoinstall_known_extensions')"
        )
        assert (autoload, autoinstall) == (False, False)
