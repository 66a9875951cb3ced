"""The project's clock: `as_of` in lucid.yaml or LUCID_AS_OF fixes "now" for every use case;
`set_as_of` writes it; `lucid demo`'s folder is new, empty or a previous demo's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lucid.bootstrap import open_project
from lucid.cli.demo import MARKER, prepare_folder, world_end
from lucid.errors import ConfigurationError, InvalidInput
from lucid.project import init_project, set_as_of
from lucid.settings import CONFIG_FILE, load_settings, parse_as_of

END = datetime(2019, 12, 31, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    init_project(folder, actor="ana", environ={}).close()
    return folder


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("yesterday", "'yesterday'"),
        ("2019-12-31T00:00:00", "naive time"),
        ("2019-12-31", "naive time"),
        (20191231, "20191231"),
    ],
)
def test_a_bad_as_of_is_refused_naming_the_setting_and_the_rule(value: object, said: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_as_of(value)
    assert raised.value.field == "as_of"
    assert "ISO 8601 time with its time zone" in raised.value.rule and said in raised.value.rule


def test_as_of_is_read_in_utc_from_the_file_or_the_environment(project: Path) -> None:
    config = project / CONFIG_FILE
    config.write_text(config.read_text() + "as_of: '2019-12-31T01:00:00+01:00'\n")
    assert load_settings(project, {}).as_of == END
    overridden = load_settings(project, {"LUCID_AS_OF": "2020-01-05T00:00:00Z"})
    assert overridden.as_of == datetime(2020, 1, 5, tzinfo=UTC)


def test_a_bad_as_of_in_the_file_or_the_environment_is_a_configuration_sentence(
    project: Path,
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(project, {"LUCID_AS_OF": "next monday"})
    assert "Setting as_of" in raised.value.sentence
    assert "ISO 8601 time with its time zone" in raised.value.sentence
    config = project / CONFIG_FILE
    config.write_text(config.read_text() + "as_of: 2019-12-31\n")  # YAML reads a date
    with pytest.raises(ConfigurationError, match="Setting as_of"):
        load_settings(project, {})


def test_set_as_of_fixes_the_project_clock_and_none_gives_it_back(project: Path) -> None:
    before = (project / CONFIG_FILE).read_text()
    assert set_as_of(project, END) == END
    with open_project(project, environ={}) as lucid:
        assert lucid.clock() == END
    set_as_of(project, "2020-02-01T00:00:00Z")  # replaced, not added
    assert (project / CONFIG_FILE).read_text().count("as_of:") == 1
    assert set_as_of(project, None) is None
    assert (project / CONFIG_FILE).read_text() == before
    with open_project(project, environ={}) as lucid:
        assert abs((lucid.clock() - datetime.now(UTC)).total_seconds()) < 60


def test_set_as_of_refuses_a_naive_moment_and_leaves_the_file(project: Path) -> None:
    before = (project / CONFIG_FILE).read_text()
    with pytest.raises(InvalidInput, match="as_of"):
        set_as_of(project, datetime(2019, 12, 31))
    assert (project / CONFIG_FILE).read_text() == before


def test_events_that_name_no_moment_occur_at_as_of(project: Path) -> None:
    set_as_of(project, END)
    with open_project(project, environ={}) as lucid:
        lucid.tokens.create(person="vic", role="viewer", teams=[], actor="ana", rationale="t")
        [created] = lucid.events.read(type="TokenCreated")
    assert created.occurred_at.startswith("2019-12-31T00:00:00")


def test_the_world_end_is_its_start_plus_its_days_in_utc() -> None:
    assert world_end({"start": "2019-01-01T00:00:00", "days": 364}) == END
    assert world_end({"start": "2019-01-01", "days": 364}) == END


def test_the_demo_writes_into_a_new_or_empty_folder_and_marks_it(tmp_path: Path) -> None:
    fresh = prepare_folder(tmp_path / "new" / "lucid-demo", force=False)
    assert (fresh / MARKER).is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (prepare_folder(empty, force=False) / MARKER).is_file()


def test_a_previous_demo_is_replaced_only_with_force(tmp_path: Path) -> None:
    folder = prepare_folder(tmp_path / "lucid-demo", force=False)
    (folder / "negentropic").mkdir()
    with pytest.raises(InvalidInput) as raised:
        prepare_folder(folder, force=False)
    assert raised.value.field == "--dir" and "--force" in raised.value.rule
    assert (folder / "negentropic").is_dir()
    prepare_folder(folder, force=True)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]


def test_a_folder_that_is_not_a_demo_is_never_deleted_even_with_force(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(InvalidInput) as raised:
            prepare_folder(folder, force=force)
        assert raised.value.field == "--dir" and "new or empty folder" in raised.value.rule
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(InvalidInput, match="not a folder"):
        prepare_folder(a_file, force=True)


def test_the_per_shock_table_prints_each_shock_and_nothing_without_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lucid.cli.demo import _print_shocks

    _print_shocks("entropic", {"retention_rate": 0.9})
    assert capsys.readouterr().out == ""
    shock = {
        "kind": "pandemic",
        "day": 60,
        "detected_day": 61,
        "detected_by": "monitoring",
        "recovered_day": None,
        "floor_days": 14,
    }
    _print_shocks("negentropic", {"shocks": [shock]})
    printed = capsys.readouterr().out
    assert "negentropic arm" in printed and "pandemic" in printed and "monitoring" in printed
    assert "—" in printed  # not recovered
