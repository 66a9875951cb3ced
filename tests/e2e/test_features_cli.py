"""The seed's audit case end to end through the real `lucid features` command."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from lucid.bootstrap import open_project
from lucid.features.definition_files import load_definitions
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, LEGACY_DEFINITIONS
from tests.conftest import run_lucid
from tests.unit.test_feature_sql import write_events


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    assert run_lucid("init", str(folder)).code == 0
    write_events(folder)
    return folder


def lucid(project: Path, *args: str) -> dict:
    result = run_lucid(*args, cwd=project)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else {"out": result.stdout}


def test_seed_audit_from_three_contradictions_to_zero(project: Path) -> None:
    lucid(project, "features", "import-legacy", str(LEGACY_DEFINITIONS))
    report = lucid(project, "features", "audit", "--json")
    assert report["contradictory_definitions"] == 3
    [concept] = report["concepts"]
    assert concept["concept"] == "customer_activity"
    assert {d["owner"] for d in concept["definitions"]} == {"marketing", "data-science", "product"}
    differences = {d["field"]: d["values"] for d in concept["differences"]}
    assert differences["window"] == {
        "active_app_users@1.0.0": "90d",
        "active_buyers@1.0.0": "30d",
        "engaged_users@1.0.0": "7d",
    }
    assert differences["sources"] == {
        "active_app_users@1.0.0": ["app_interactions"],
        "active_buyers@1.0.0": ["purchases"],
        "engaged_users@1.0.0": ["logins"],
    }

    plan = lucid(project, "features", "plan", str(CANONICAL_DEFINITIONS), "--json")
    assert [f["action"] for f in plan["features"]] == ["add"] and plan["refusals"] == []
    lucid(
        project,
        "features",
        "apply",
        str(CANONICAL_DEFINITIONS),
        "--rationale",
        "one canonical activity",
        "--as",
        "dana",
    )
    for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "paul")):
        lucid(
            project,
            "features",
            "approve",
            "customer_activity_30d@1.0",
            "--team",
            team,
            "--as",
            person,
        )
    assert lucid(project, "features", "audit", "--json")["contradictory_definitions"] == 3
    for name in ("active_buyers", "engaged_users", "active_app_users"):
        lucid(project, "features", "deprecate", f"{name}@1.0", "--rationale", "retired")
    assert lucid(project, "features", "audit", "--json") == {
        "contradictory_definitions": 0,
        "concepts": [],
    }
    events = lucid(project, "events", "list", "--json", "--limit", "1000")["events"]
    types = [e["type"] for e in events]
    assert types.count("FeatureDeprecated") == 3 and "FeatureApproved" in types
    assert lucid(project, "events", "verify", "--json")["ok"] is True


def test_bad_governance_through_the_cli_is_one_sentence(project: Path) -> None:
    lucid(
        project,
        "features",
        "apply",
        str(CANONICAL_DEFINITIONS),
        "--rationale",
        "seed",
        "--as",
        "dana",
    )
    before = lucid(project, "events", "list", "--json", "--limit", "1000")["events"]
    result = run_lucid(
        "features",
        "approve",
        "customer_activity_30d@1.0",
        "--team",
        "marketing",
        "--as",
        "dana",
        cwd=project,
    )
    assert result.code == 1
    assert "dana proposed customer_activity_30d@1.0.0 and cannot approve it" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_lucid("features", "plan", str(project / "nowhere.yaml"), cwd=project)
    assert missing.code == 1 and "does not exist" in missing.stderr
    broken = project / "broken.yaml"
    broken.write_text("features:\n  - name: x\n    version: 1.0\n    window: soon\n")
    refused = run_lucid("features", "apply", str(broken), "--rationale", "r", cwd=project)
    assert refused.code == 1 and "broken.yaml: x.computation: is required" in refused.stderr
    after = lucid(project, "events", "list", "--json", "--limit", "1000")["events"]
    assert after == before


def test_plan_names_the_bump_and_apply_refuses_a_short_one(project: Path) -> None:
    lucid(
        project,
        "features",
        "apply",
        str(CANONICAL_DEFINITIONS),
        "--rationale",
        "seed",
        "--as",
        "dana",
    )
    changed = CANONICAL_DEFINITIONS.read_text()
    changed = changed.replace("version: 1.0.0", "version: 1.1.0").replace(
        "window: 30d", "window: 28d"
    )
    path = project / "changed.yaml"
    path.write_text(changed)
    result = run_lucid("features", "plan", str(path), "--json", cwd=project)
    assert result.code == 1
    [item] = json.loads(result.stdout)["features"]
    assert item["action"] == "refuse" and item["required_bump"] == "major"
    assert "must become at least 2.0.0, not 1.1.0" in item["reason"]
    applied = run_lucid("features", "apply", str(path), "--rationale", "r", cwd=project)
    assert applied.code == 1 and "Nothing was applied" in applied.stderr
    listed = run_lucid("features", "list", cwd=project, env={"COLUMNS": "80"})
    assert listed.code == 0 and "customer_activity_30d@1.0.0" in listed.stdout  # never cut
    sql = run_lucid(
        "features", "show", "customer_activity_30d@1.0", "--sql", cwd=project, env={"COLUMNS": "60"}
    )
    assert sql.code == 0 and "INTERVAL '2592000' SECOND" in sql.stdout
    with open_project(project, environ={}) as handle:  # printed as compiled, not folded at 60
        assert sql.stdout == handle.features.sql("customer_activity_30d@1.0.0") + "\n"


def test_show_sql_prints_each_engines_query_and_refuses_an_unknown_dialect(
    project: Path,
) -> None:
    lucid(project, "features", "apply", str(CANONICAL_DEFINITIONS), "--rationale", "seed")
    show = ("features", "show", "customer_activity_30d@1.0", "--sql", "--dialect")
    spark = run_lucid(*show, "spark", cwd=project)
    assert spark.code == 0 and "`ingested_at` <= s.__lucid_as_of" in spark.stdout  # as known at
    with open_project(project, environ={}) as handle:
        shown = handle.features.sql("customer_activity_30d@1.0.0", dialect="spark")
        assert spark.stdout == shown + "\n"
    oracle = run_lucid(*show, "oracle", cwd=project)
    assert oracle.code != 0 and "Traceback" not in oracle.stderr
    assert "dialect: 'oracle' must be one of duckdb, spark" in oracle.stderr


def test_training_set_materialise_serve_and_skew_through_the_cli(project: Path) -> None:
    lucid(
        project,
        "features",
        "apply",
        str(CANONICAL_DEFINITIONS),
        "--rationale",
        "seed",
        "--as",
        "dana",
    )
    for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "paul")):
        lucid(
            project,
            "features",
            "approve",
            "customer_activity_30d@1.0",
            "--team",
            team,
            "--as",
            person,
        )
    labels = project / "labels.csv"
    labels.write_text(
        "entity_id,timestamp,churned\nalice,2026-03-31 12:00:00,0\n"
        "alice,2026-03-31 12:00:00,1\ndave,2026-03-31 12:00:00,1\n"
    )
    out = project / "train.parquet"
    result = lucid(
        project,
        "features",
        "training-set",
        "--labels",
        str(labels),
        "--features",
        "customer_activity_30d@1.0",
        "--out",
        str(out),
    )
    assert "Wrote 3 rows" in result["out"]
    rows = duckdb.sql(f"SELECT * FROM '{out}'").fetchall()
    assert [row[2] for row in rows] == [0, 1, 1]
    assert rows[0][3] == pytest.approx(0.24) and rows[2][3] == 0.0
    at = "2026-03-31T12:00:00Z"
    assert "3 entities written" in lucid(project, "features", "materialize", "--at", at)["out"]
    served = run_lucid(
        "features",
        "get",
        "alice",
        "dave",
        "--features",
        "customer_activity_30d@1.0",
        "--log",
        cwd=project,
    )
    assert served.code == 0, served.stderr
    # Served now: the definition has no TTL, so the values computed for 2026-03-31 are served;
    # recomputed at the time they were served, alice's window is empty: the skew report sees it.
    [alice, dave] = json.loads(served.stdout)
    assert alice["customer_activity_30d@1.0.0"]["status"] == "fresh"
    assert alice["customer_activity_30d@1.0.0"]["value"] == pytest.approx(0.24)
    assert dave["customer_activity_30d@1.0.0"]["value"] == 0.0
    report = lucid(project, "features", "skew", "--json")
    assert report["overall"]["served"] == 2
    assert report["overall"]["missing_rate"] == 0.0
    assert report["overall"]["mismatch_rate"] == 0.5
    bad = run_lucid(
        "features",
        "training-set",
        "--labels",
        str(labels),
        "--features",
        "customer_activity_30d",
        "--out",
        str(out),
        cwd=project,
    )
    assert bad.code == 1 and "must pin a version" in bad.stderr
    bad_time = run_lucid("features", "materialize", "--at", "yesterday", cwd=project)
    assert bad_time.code == 1
    assert "--at: 'yesterday' (text) is not a time; write ISO 8601" in bad_time.stderr


def approved(project: Path) -> None:
    """The canonical customer_activity_30d@1.0, applied and approved by its three teams."""
    canonical = str(CANONICAL_DEFINITIONS)
    lucid(project, "features", "apply", canonical, "--rationale", "seed", "--as", "dana")
    for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "paul")):
        ref = "customer_activity_30d@1.0"
        lucid(project, "features", "approve", ref, "--team", team, "--as", person)


def test_label_times_with_offsets_through_the_cli(project: Path) -> None:
    """Label times with offsets, after more naive times than DuckDB's CSV sniffer samples
    (20,480 rows), are the instants they say: 17:30+05:30 is 12:00Z and does not see alice's
    purchase and login one second after 12:00Z (docs/features.md, "Time")."""
    approved(project)
    same_instant = [
        "2026-03-31T17:30:00+05:30",
        "2026-03-31T12:00:00Z",
        "2026-03-31T04:00:00-08:00",
    ]
    labels = project / "labels.csv"
    labels.write_text(
        "entity_id,timestamp,churned\n"
        + "dave,2026-03-31 12:00:00,0\n" * 21_000
        + "".join(f"alice,{moment},1\n" for moment in same_instant)
    )
    out = project / "train.parquet"
    result = lucid(
        project,
        "features",
        "training-set",
        "--labels",
        str(labels),
        "--features",
        "customer_activity_30d@1.0",
        "--out",
        str(out),
    )
    assert "Wrote 21003 rows" in result["out"]
    rows = duckdb.sql(f"SELECT * FROM '{out}' WHERE entity_id = 'alice'").fetchall()
    assert len(rows) == 3
    for row in rows:  # 3 purchases (0.7 * 3/10) and 2 logins (0.3 * 2/20) as known at 12:00Z
        assert row[1] == datetime(2026, 3, 31, 12, 0) and row[3] == pytest.approx(0.24), row


def test_a_label_time_that_is_not_a_time_is_one_sentence(project: Path) -> None:
    approved(project)
    labels = project / "labels.csv"
    labels.write_text("entity_id,timestamp,churned\nalice,2026-03-31T12:00:00Z,0\nalice,soon,1\n")
    out = project / "train.parquet"
    refused = run_lucid(
        "features",
        "training-set",
        "--labels",
        str(labels),
        "--features",
        "customer_activity_30d@1.0",
        "--out",
        str(out),
        cwd=project,
    )
    assert refused.code == 1 and not out.exists()
    assert refused.stderr.strip() == (
        "error: labels.timestamp: 'soon' (text) is not a time; write ISO 8601, e.g. "
        "2025-06-15T17:30:00+02:00"
    )


def test_features_get_reads_as_at_now(project: Path) -> None:
    """`--now` with an offset is that instant: 17:00+05:30 two days on is 30 minutes inside
    the 2-day TTL of values as of 12:00Z (read as 17:00 UTC it would be outside); naive text
    is UTC; a bad one is one sentence. Alice's latest event is at 12:00Z, so her value's data
    time is that instant."""
    from tests.contract.test_feature_governance import approve_all
    from tests.contract.test_feature_serving import with_ttl

    with open_project(project, environ={}) as opened:
        opened.features.apply(with_ttl(), actor="dana", rationale="a 2-day TTL")
        approve_all(opened.features, "customer_activity_30d@1.0.0")
    lucid(project, "features", "materialize", "--at", "2026-03-31T12:00:00Z")

    def status(now: str) -> str:
        served = lucid(
            project,
            "features",
            "get",
            "alice",
            "--features",
            "customer_activity_30d@1.0",
            "--now",
            now,
        )
        [alice] = json.loads(served["out"])
        return str(alice["customer_activity_30d@1.0.0"]["status"])

    assert status("2026-04-02T17:00:00+05:30") == "fresh"
    assert status("2026-04-02T12:30:00") == "stale"
    refused = run_lucid(
        "features",
        "get",
        "alice",
        "--features",
        "customer_activity_30d@1.0",
        "--now",
        "later",
        cwd=project,
    )
    assert refused.code == 1
    assert "--now: 'later' (text) is not a time; write ISO 8601" in refused.stderr


def test_get_refuses_an_id_the_listing_source_does_not_hold(project: Path) -> None:
    from tests.contract.test_feature_governance import approve_all, as_set
    from tests.contract.test_online_entities import CUSTOMERS, write_customers
    from tests.unit.test_feature_sql import T

    write_customers(project, [("alice", T), ("dave", T)])
    with open_project(project, environ={}) as opened:
        features = opened.features
        features.apply(load_definitions(CANONICAL_DEFINITIONS), actor="dana", rationale="r")
        features.apply(as_set({"sources": [CUSTOMERS]}), actor="dana", rationale="customers")
        approve_all(features, "customer_activity_30d@1.0.0")
    at = "2026-03-31T12:00:00Z"
    assert "2 entities written" in lucid(project, "features", "materialize", "--at", at)["out"]
    refused = run_lucid(
        "features", "get", "carol", "--features", "customer_activity_30d@1.0", cwd=project
    )
    assert refused.code == 1 and refused.stdout == ""
    assert (
        "customer 'carol' is not known: source customers, which lists every customer, did not "
        "hold it when customer_activity_30d@1.0.0 was last materialised." in refused.stderr
    )
    served = run_lucid(
        "features", "get", "dave", "--features", "customer_activity_30d@1.0", cwd=project
    )
    assert served.code == 0, served.stderr
    dave = json.loads(served.stdout)[0]["customer_activity_30d@1.0.0"]
    assert (dave["value"], dave["status"]) == (0.0, "fresh")  # listed, no event, no TTL
