"""Creating an embedded project: `lucid.yaml`, its folders, a migrated metadata database."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

import lucid
from lucid.bootstrap import Lucid, bootstrap
from lucid.contracts.events import NewEvent, ProjectInitialised, Subject
from lucid.errors import Conflict, InvalidInput
from lucid.project_folder import CONFIG_FILE
from lucid.settings import default_config, load_settings, parse_as_of
from lucid.storage import schema
from lucid.storage.database import Database


def init_project(
    directory: Path, *, name: str | None = None, actor: str, environ: Mapping[str, str]
) -> Lucid:
    """Make `directory` a Lucid project and open it; refuses a folder that already is one.
    Refused at any step (a blank name, an unreachable database), it leaves the folder as it
    found it."""
    folder = directory.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("DIR", f"{folder} exists and is not a folder")
    if (folder / CONFIG_FILE).exists():
        raise Conflict(
            f"{folder} is already a Lucid project ({CONFIG_FILE} exists); nothing changed."
        )
    project_name = name or folder.name
    config = default_config(project_name)
    existed = folder.exists()
    before = set(folder.iterdir()) if existed else set()
    try:
        return _create(folder, config, project_name, actor=actor, environ=environ)
    except BaseException:
        remove_created(folder, existed, before)
        raise


def _create(
    folder: Path, config: dict[str, Any], name: str, *, actor: str, environ: Mapping[str, str]
) -> Lucid:
    """Write the project's folders, settings and schema; record `ProjectInitialised`."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in (config["data_dir"], config["artifacts_url"]):
        (folder / sub).mkdir(exist_ok=True)
    (folder / CONFIG_FILE).write_text(
        "# Lucid project settings. LUCID_DATABASE_URL, LUCID_ONLINE_STORE_URL, LUCID_ENGINE,\n"
        "# LUCID_SPARK_MASTER, LUCID_ARTIFACTS_URL and LUCID_DATA_DIR override these values.\n"
        + yaml.safe_dump(config, sort_keys=False),
        encoding="utf-8",
    )
    settings = load_settings(folder, environ)
    db = Database(settings.database_url)
    try:
        schema.upgrade(db)
    finally:
        db.dispose()
    handle = bootstrap(settings)
    try:
        handle.events.append(
            NewEvent.of(
                ProjectInitialised(name=name, lucid_version=lucid.__version__),
                actor=actor,
                subject=Subject("project", name.replace(" ", "_")),
                rationale="lucid init created the project",
            )
        )
    except BaseException:
        handle.close()
        raise
    return handle


def remove_created(folder: Path, existed: bool, before: set[Path]) -> None:
    """Undo a refused `init_project` (or example) in the folder: the folder when it was made,
    else every entry added since `before` (what was there before stays)."""
    if not existed:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for entry in set(folder.iterdir()) - before:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def set_as_of(project_dir: Path, moment: datetime | str | None) -> datetime | None:
    """Fix the project's clock at `moment` (written `as_of` in its `lucid.yaml`; the other
    lines stay as they are), or give it back to the machine's time with None. Returns the
    UTC moment written; raises InvalidInput naming `as_of` for a value that is not an
    ISO 8601 time with its time zone."""
    folder = project_dir.expanduser().resolve()
    config = folder / CONFIG_FILE
    if not config.is_file():
        raise InvalidInput("project_dir", f"{folder} is not a Lucid project (no {CONFIG_FILE})")
    fixed = None if moment is None else parse_as_of(moment)
    lines = [
        line
        for line in config.read_text(encoding="utf-8").splitlines()
        if not line.startswith("as_of:")
    ]
    if fixed is not None:
        lines.append(f"as_of: '{fixed.isoformat().replace('+00:00', 'Z')}'")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return fixed
