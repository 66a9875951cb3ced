"""`lucid db`: the metadata database's schema revision."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from lucid.cli.context import console, print_json, state
from lucid.project_folder import find_project
from lucid.settings import load_settings
from lucid.storage import schema
from lucid.storage.database import Database, redact

app = typer.Typer(help="Metadata database schema.", no_args_is_help=True)


def _database(ctx: typer.Context) -> Database:
    folder = find_project(state(ctx).project, Path.cwd(), os.environ)
    return Database(load_settings(folder, os.environ).database_url)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the metadata database to the schema this Lucid needs."""
    db = _database(ctx)
    try:
        before, after = schema.upgrade(db)
    finally:
        db.dispose()
    if before == after:
        console.print(f"{redact(db.url)} is already at revision {after}.")
    else:
        console.print(f"Migrated {redact(db.url)} from revision {before or 'none'} to {after}.")


@app.command()
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show the database's schema revision and the one this Lucid needs."""
    db = _database(ctx)
    try:
        current, head = schema.current_revision(db), schema.head_revision()
    finally:
        db.dispose()
    if as_json:
        print_json({"url": redact(db.url), "current": current, "head": head, "ok": current == head})
        return
    verdict = "up to date" if current == head else "run `lucid db upgrade`"
    console.print(f"{redact(db.url)}: revision {current or 'none'}, needs {head} — {verdict}")
