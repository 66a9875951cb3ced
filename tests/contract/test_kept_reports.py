"""Kept reports: read back while the database, the settings and the clock are as they were
measured, and never once anything they read has moved."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lucid.bootstrap import open_project
from lucid.contracts.events import format_time
from lucid.settings import PLAIN_VARIABLES
from lucid.storage.kept_reports import KeptReports, ReadEnvironment, keep_settings, read_kept
from tests.conftest import new_project

MEASURED = datetime(2026, 12, 1, 12, tzinfo=UTC)
BODY = {"z_first": 1.5, "a_second": None, "override_shares": {"rows": []}}


def _keep(
    folder: Path,
    environ: Mapping[str, str],
    *,
    until: datetime | None = None,
    moved: bool = False,
    settings_kept: bool = True,
) -> bool:
    """Measure nothing, keep BODY as measured at MEASURED (`moved`: with a state from before
    a write); the settings file too when kept (`settings_kept`: whether it may be)."""
    read = ReadEnvironment(environ)
    with open_project(folder, environ=read) as lucid:
        kept = KeptReports(lucid.db)
        state = kept.state()
        if moved:
            lucid.incidents.declare_shift(MEASURED, description="a shock", actor="dana")
        done = kept.keep(
            "r",
            BODY,
            state=state,
            measured_at=format_time(MEASURED),
            valid_until=None if until is None else format_time(until),
        )
        if done:
            url = lucid.settings.database_url
            assert keep_settings(folder, read, PLAIN_VARIABLES, url, None) is settings_kept
    return done


def _read(folder: Path, environ: Mapping[str, str], at: datetime = MEASURED) -> Any:
    return read_kept(folder, "r", environ, lambda: at)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "shop"
    return folder, new_project(folder)


def test_a_kept_report_reads_back_as_kept_in_its_order(
    project: tuple[Path, dict[str, str]],
) -> None:
    folder, environ = project
    assert _read(folder, environ) is None  # nothing kept yet
    assert _keep(folder, environ)
    body = _read(folder, environ, MEASURED + timedelta(days=30))
    assert body == BODY and list(body) == list(BODY)
    assert read_kept(folder, "other", environ, lambda: MEASURED) is None


def _record_event(folder: Path, environ: Mapping[str, str]) -> None:
    with open_project(folder, environ=environ) as lucid:
        lucid.tokens.create(person="ana", role="viewer", teams=[], actor="dana", rationale="r")


def _write(folder: Path, environ: Mapping[str, str], sql: str) -> None:
    with open_project(folder, environ=environ) as lucid, lucid.db.transaction() as connection:
        connection.execute(text(sql))


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(_record_event, id="an event recorded"),
        pytest.param(
            lambda f, e: _write(
                f,
                e,
                "INSERT INTO served_features (served_at, entity, feature, status) "
                "VALUES ('2026-12-01T00:00:00.000000Z', 'c1', 'f@1', 'ok')",
            ),
            id="a served value logged",
        ),
        pytest.param(
            lambda f, e: _write(
                f,
                e,
                "INSERT INTO skew_figures (tolerance, position, figures, measured_at) "
                "VALUES (0.5, 0, '[]', '2026-12-01T00:00:00.000000Z')",
            ),
            id="skew sums kept",
        ),
        pytest.param(
            lambda f, e: _write(f, e, "UPDATE alembic_version SET version_num = '0019'"),
            id="another schema",
        ),
    ],
)
def test_any_write_it_reads_makes_it_measured_again(
    project: tuple[Path, dict[str, str]], write: Any
) -> None:
    folder, environ = project
    assert _keep(folder, environ)
    write(folder, environ)
    assert _read(folder, environ) is None


def test_a_write_while_it_was_measured_keeps_nothing(
    project: tuple[Path, dict[str, str]],
) -> None:
    folder, environ = project
    assert not _keep(folder, environ, moved=True)
    assert _read(folder, environ) is None


def test_the_clock_bounds_it(project: tuple[Path, dict[str, str]]) -> None:
    folder, environ = project
    until = MEASURED + timedelta(hours=1)
    assert _keep(folder, environ, until=until)
    assert _read(folder, environ, until - timedelta(microseconds=1)) == BODY
    assert _read(folder, environ, until) is None  # a declared shift starts: figures change
    assert _read(folder, environ, MEASURED - timedelta(seconds=1)) is None


def test_changed_settings_make_it_measured_again(project: tuple[Path, dict[str, str]]) -> None:
    folder, environ = project
    assert _keep(folder, environ)
    assert _read(folder, {**environ, "UNRELATED": "x"}) == BODY
    assert _read(folder, {**environ, "LUCID_AS_OF": "2026-01-01T00:00:00Z"}) is None
    assert _read(folder, {**environ, "LUCID_DATABASE_URL": "sqlite:////elsewhere.db"}) is None
    config = folder / "lucid.yaml"
    config.write_text(config.read_text() + "# edited\n")
    assert _read(folder, environ) is None


def test_a_settings_file_pointing_elsewhere_is_not_trusted(
    project: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, environ = project
    assert _keep(folder, environ)
    forged = tmp_path / "forged.db"
    forged.write_bytes((folder / "metadata.db").read_bytes())
    path = folder / ".lucid" / "settings.json"
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "database_url": f"sqlite:///{forged}"}))
    assert _read(folder, environ) is None


@pytest.mark.parametrize("content", ["not json", '{"format": 1}', "[]", '{"format": 99}'])
def test_an_unreadable_settings_file_is_not_trusted(
    project: tuple[Path, dict[str, str]], content: str
) -> None:
    folder, environ = project
    assert _keep(folder, environ)
    (folder / ".lucid" / "settings.json").write_text(content)
    assert _read(folder, environ) is None


def test_each_database_keeps_and_reads_back_and_a_write_is_seen(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "shop"
    environ = new_project(folder, database_url)
    assert _keep(folder, environ)
    with open_project(folder, environ=environ) as lucid, lucid.db.snapshot() as connection:
        [(body,)] = connection.execute(text("SELECT body FROM kept_reports")).all()
    assert json.loads(body) == BODY
    assert _read(folder, environ) == BODY
    _record_event(folder, environ)
    assert _read(folder, environ) is None


def test_a_database_that_cannot_be_reached_is_measured(
    project: tuple[Path, dict[str, str]],
) -> None:
    folder, environ = project
    assert _keep(folder, environ)
    (folder / "metadata.db").rename(folder / "moved.db")
    assert _read(folder, environ) is None


def test_secrets_are_never_written_and_only_their_presence_counts(
    project: tuple[Path, dict[str, str]],
) -> None:
    folder, environ = project
    config = folder / "lucid.yaml"
    config.write_text(
        config.read_text()
        + "alerts:\n  channels:\n    - name: hook\n      kind: webhook\n"
        + "      url: https://example.invalid/hook\n      signing_secret_env: HOOK_SECRET\n"
    )
    environ = {**environ, "HOOK_SECRET": "whsec_first-secret"}
    assert _keep(folder, environ)
    written = (folder / ".lucid" / "settings.json").read_text()
    assert "first-secret" not in written
    assert json.loads(written)["environment"]["HOOK_SECRET"] is False  # named by lucid.yaml
    assert _read(folder, {**environ, "HOOK_SECRET": "whsec_rotated"}) == BODY
    unset = {k: v for k, v in environ.items() if k != "HOOK_SECRET"}
    assert _read(folder, unset) is None


def test_a_database_password_is_never_written(tmp_path: Path, postgres_schema: str) -> None:
    url = postgres_schema.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    assert url != postgres_schema  # trust authentication: the password is accepted, unused
    folder = tmp_path / "shop"
    environ = new_project(folder, url)
    assert _keep(folder, environ)
    written = (folder / ".lucid" / "settings.json").read_text()
    assert "s3cret" not in written
    assert json.loads(written)["database_url_variable"] == "LUCID_DATABASE_URL"
    assert _read(folder, environ) == BODY
    other_host = url.replace("127.0.0.1", "localhost")
    assert _read(folder, {**environ, "LUCID_DATABASE_URL": other_host}) is None
    config = folder / "lucid.yaml"  # a password written in lucid.yaml: nothing kept to read
    config.write_text(config.read_text().replace("sqlite:///metadata.db", url))
    environ = {k: v for k, v in environ.items() if k != "LUCID_DATABASE_URL"}
    assert _keep(folder, environ, settings_kept=False)
    assert _read(folder, environ) is None
    assert "s3cret" not in (folder / ".lucid" / "settings.json").read_text()


def test_a_seal_keeps_it_and_a_value_served_after_a_seal_moves_it(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "shop"
    environ = new_project(folder, database_url)
    served = (
        "INSERT INTO served_features (served_at, entity, feature, value, status) "
        "VALUES ('2026-11-01T00:00:00.000000Z', 'c{i}', 'f@1', '1', 'fresh')"
    )
    for i in range(3):
        _write(folder, environ, served.format(i=i))
    assert _keep(folder, environ)
    with open_project(folder, environ=environ) as lucid:
        assert lucid.monitoring.seal().served  # all but the last value
    assert _read(folder, environ) == BODY  # the served values are the same values
    _write(folder, environ, served.format(i=3))
    assert _read(folder, environ) is None
