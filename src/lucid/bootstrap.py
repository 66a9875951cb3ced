"""The composition root: settings → adapters → a `Lucid` handle. Nothing runs at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lucid.registry.service import ModelRegistry
from lucid.settings import Settings, find_project, load_settings
from lucid.storage import schema
from lucid.storage.artifacts import ArtifactStore
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog
from lucid.storage.hugging_face_hub import HuggingFaceHub


@dataclass
class Lucid:
    """An open project: its settings and the adapters its use cases run on."""

    settings: Settings
    db: Database
    events: SqlEventLog
    registry: ModelRegistry

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Lucid:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def bootstrap(settings: Settings, *, check_schema: bool = True) -> Lucid:
    """Build the adapters for `settings`; refuse a database not at this Lucid's schema."""
    db = Database(settings.database_url)
    try:
        if check_schema:
            schema.ensure_current(db)
    except BaseException:
        db.dispose()
        raise
    events = SqlEventLog(db)
    registry = ModelRegistry(
        db,
        events,
        ArtifactStore(settings.artifacts_url),
        HuggingFaceHub(offline=settings.huggingface_offline, cache_dir=settings.huggingface_cache),
        approvers=settings.approvers,
    )
    return Lucid(settings=settings, db=db, events=events, registry=registry)


def open_project(
    project: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Lucid:
    """Open the project at `project`, else `$LUCID_PROJECT`, else the nearest `lucid.yaml`."""
    env = os.environ if environ is None else environ
    folder = find_project(Path(project) if project else None, cwd or Path.cwd(), env)
    return bootstrap(load_settings(folder, env))
