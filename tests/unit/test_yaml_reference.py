"""`lucid schema KIND` and docs/yaml.md: described from the readers' own key tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from lucid.cli.schema import describe, reference
from lucid.contracts.validity.policy import MonitoringPolicy
from lucid.contracts.value.impact import BusinessImpact
from lucid.contracts.yaml_kinds import KINDS
from lucid.errors import InvalidInput
from tests.conftest import run_lucid

DOC = Path(__file__).parents[2] / "docs" / "yaml.md"


def test_docs_yaml_md_is_what_lucid_schema_all_prints() -> None:
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/yaml.md disagrees with the schemas: regenerate it with "
        "`lucid schema all > docs/yaml.md`"
    )


def test_every_kind_the_issue_names_is_described() -> None:
    text = reference()
    for kind in ("sources", "features", "contracts", "policies", "decisions", "evidence"):
        assert kind in KINDS and f"\n## {kind}\n" in text
    assert "\n## lucid.yaml\n" in text and "| `max_predict_batch` | `int` | optional |" in text


def test_a_key_the_schema_lists_is_read_and_one_it_does_not_is_refused() -> None:
    policy = {
        "model": "churn",
        "thresholds": [
            {
                "drift_type": "data",
                "metric": "psi",
                "warning": 0.1,
                "critical": 0.2,
                "warning_action": "alert:data_team",
                "critical_action": "alert:data_team",
            }
        ],
        "reporting": {"stakeholders": ["dana"]},
    }
    listed = {f.key for f in KINDS["policies"].sections[0].fields()}
    threshold = {f.key: f.required for f in KINDS["policies"].sections[1].fields()}
    assert set(policy) <= listed
    assert {k for k, required in threshold.items() if required} == set(policy["thresholds"][0])
    MonitoringPolicy.from_mapping(policy)
    with pytest.raises(InvalidInput, match="unknown key"):
        MonitoringPolicy.from_mapping({**policy, "thresholdz": []})
    contract = {f.key: f for f in KINDS["contracts"].sections[0].fields()}
    assert contract["metric"].required and not contract["alpha"].required
    with pytest.raises(InvalidInput, match="unknown key"):
        BusinessImpact.from_mapping({"metric": "retention", "metrik": 1})


def test_an_unknown_kind_is_refused_in_one_sentence_naming_the_kinds() -> None:
    with pytest.raises(InvalidInput) as refused:
        describe("policy")
    assert refused.value.field == "KIND" and "policies" in refused.value.rule
    run = run_lucid("schema", "nope")
    assert run.code == 1 and run.stdout == ""
    assert "KIND: must be one of sources" in " ".join(run.stderr.split())


def test_lucid_schema_prints_one_kind() -> None:
    run = run_lucid("schema", "decisions")
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("## decisions\n") and "### hypotheses[]" in run.stdout
    assert "## policies" not in run.stdout
