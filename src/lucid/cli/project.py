"""`lucid init`: make an embedded project."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from lucid.cli.context import console
from lucid.project import init_project
from lucid.settings import CONFIG_FILE, default_actor


def init(
    directory: Path = typer.Argument(..., help="Folder of the new project (made if missing)."),
    name: str | None = typer.Option(None, help="Project name (default: the folder name)."),
) -> None:
    """Make an embedded project: lucid.yaml, SQLite metadata, DuckDB engine, local folders."""
    with init_project(
        directory, name=name, actor=default_actor(os.environ), environ=os.environ
    ) as handle:
        settings = handle.settings
    console.print(f"Created Lucid project [bold]{settings.name}[/] in {settings.project_dir}")
    console.print(f"  config      {settings.project_dir / CONFIG_FILE}")
    console.print(f"  metadata    {settings.database_url}")
    console.print(f"  online      {settings.online_store_url}")
    console.print(f"  engine      {settings.engine}")
    console.print(f"  artifacts   {settings.artifacts_url}")
