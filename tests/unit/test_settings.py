"""Finding a project and reading its settings, with environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lucid.errors import ConfigurationError, ProjectNotFound
from lucid.project_folder import CONFIG_FILE, find_project
from lucid.settings import default_config, load_settings


def make_project(folder: Path, **overrides: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {**default_config("shop"), **overrides}
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(config))
    return folder


def test_relative_paths_resolve_against_the_project(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path / "p"), {})
    assert settings.database_url == f"sqlite:///{tmp_path / 'p' / 'metadata.db'}"
    assert settings.online_store_url == f"sqlite:///{tmp_path / 'p' / 'online.db'}"
    assert settings.artifacts_url == str(tmp_path / "p" / "artifacts")
    assert settings.engine == "duckdb"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    environ = {
        "LUCID_DATABASE_URL": "postgresql://u@db/lucid",
        "LUCID_ONLINE_STORE_URL": "redis://127.0.0.1:6379/0",
        "LUCID_ENGINE": "spark",
        "LUCID_ARTIFACTS_URL": "s3://bucket/lucid",
    }
    settings = load_settings(make_project(tmp_path), environ)
    assert settings.database_url == "postgresql://u@db/lucid"
    assert settings.online_store_url == "redis://127.0.0.1:6379/0"
    assert settings.engine == "spark"
    assert settings.artifacts_url == "s3://bucket/lucid"


def test_an_unknown_engine_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"Setting engine .* invalid: Input should be"):
        load_settings(make_project(tmp_path), {"LUCID_ENGINE": "pandas"})


def test_an_unknown_setting_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Setting colour"):
        load_settings(make_project(tmp_path, colour="blue"), {})


def test_broken_yaml_is_a_sentence(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("name: [unclosed")
    with pytest.raises(ConfigurationError, match="is not valid YAML"):
        load_settings(tmp_path, {})


def test_a_missing_setting_is_named(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("name: x\n")
    with pytest.raises(ConfigurationError, match="missing the setting"):
        load_settings(tmp_path, {})


def test_the_project_is_found_from_a_subfolder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(None, deep, {}) == project.resolve()


def test_explicit_project_wins_over_the_environment(tmp_path: Path) -> None:
    one, two = make_project(tmp_path / "one"), make_project(tmp_path / "two")
    assert find_project(one, tmp_path, {"LUCID_PROJECT": str(two)}) == one.resolve()
    assert find_project(None, tmp_path, {"LUCID_PROJECT": str(two)}) == two.resolve()


def test_no_project_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound, match=r"lucid init DIR"):
        find_project(None, tmp_path, {})
    with pytest.raises(ProjectNotFound, match="is not a Lucid project"):
        find_project(tmp_path, tmp_path, {})


def test_approvers_and_the_hugging_face_cache(tmp_path: Path) -> None:
    settings = load_settings(
        make_project(tmp_path, approvers=[" bea ", "carl"]),
        {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf")},
    )
    assert settings.approvers == ("bea", "carl")
    assert settings.huggingface_offline and settings.huggingface_cache == tmp_path / "hf"
    assert not load_settings(make_project(tmp_path / "q"), {}).huggingface_offline
    with pytest.raises(ConfigurationError, match="approvers"):
        load_settings(make_project(tmp_path / "r", approvers=[""]), {})


def test_alert_channels_and_training_pipelines_are_read(tmp_path: Path) -> None:
    alerts = {
        "channels": [
            {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/x"},
            {
                "name": "pager",
                "kind": "pagerduty",
                "url": "http://127.0.0.1:9/p",
                "routing_key": "k",
            },
        ],
        "attempts": 5,
        "escalation_channels": ["pager"],
    }
    folder = make_project(
        tmp_path, alerts=alerts, training_pipelines={"churn": "shop.training:retrain"}
    )
    settings = load_settings(folder, {})
    assert [c.name for c in settings.alerts.channels] == ["hook", "pager"]
    assert settings.alerts.attempts == 5 and settings.alerts.backoff_seconds == 1.0
    assert settings.training_pipelines == {"churn": "shop.training:retrain"}


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"alerts": {"channels": [{"name": "m", "kind": "email"}]}}, "email channel needs"),
        ({"alerts": {"channels": [{"name": "p", "kind": "pagerduty", "url": "u"}]}}, "routing_key"),
        ({"alerts": {"channels": [{"name": "x", "kind": "fax", "url": "u"}]}}, "alerts.channels.0"),
        ({"alerts": {"attempts": 0}}, "attempts must be at least 1"),
        ({"alerts": {"escalation_channels": ["nope"]}}, "nope are not channels"),
        ({"training_pipelines": {"churn": "no_function"}}, "must be written module:function"),
    ],
)
def test_bad_alert_settings_are_named(
    tmp_path: Path, overrides: dict[str, object], sentence: str
) -> None:
    with pytest.raises(ConfigurationError, match=sentence):
        load_settings(make_project(tmp_path, **overrides), {})
