"""Where a project is: the folder holding its `lucid.yaml`. Imports nothing heavy, so that a
command can find its project before it loads the settings' validation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lucid.errors import ProjectNotFound

CONFIG_FILE = "lucid.yaml"

PROJECT_ENV = "LUCID_PROJECT"
"""Environment variable naming the project folder when `--project` is not given."""


def find_project(explicit: Path | None, cwd: Path, environ: Mapping[str, str]) -> Path:
    """The project folder: `explicit`, else `$LUCID_PROJECT`, else the nearest parent of `cwd`
    holding a `lucid.yaml`."""
    if explicit is None and environ.get(PROJECT_ENV):
        explicit = Path(environ[PROJECT_ENV])
    if explicit is not None:
        folder = explicit.expanduser().resolve()
        if not (folder / CONFIG_FILE).is_file():
            raise ProjectNotFound(
                f"{folder} is not a Lucid project (no {CONFIG_FILE}); "
                f"create one with `lucid init {folder}`."
            )
        return folder
    for folder in [cwd.resolve(), *cwd.resolve().parents]:
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ProjectNotFound(
        f"No {CONFIG_FILE} in {cwd.resolve()} or any parent folder; pass --project DIR, "
        f"set {PROJECT_ENV}, or create a project with `lucid init DIR`."
    )
