"""`lucid demo`: the project's main job, end to end on the embedded default."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from lucid.cli.context import console
from lucid.demo import run_foundation_demo
from lucid.errors import InvalidInput


def demo(
    directory: Path | None = typer.Option(
        None, "--dir", help="Folder for the demo project (default: a new temporary folder)."
    ),
) -> None:
    """Run Lucid end to end on the embedded default (SQLite + DuckDB + local files)."""
    console.print(
        "[bold]Lucid demo[/] — the SaaS churn scenario is not built yet (issue 10), so this "
        "demo runs the end-to-end path that exists today: project, metadata store, the "
        "hash-chained event log and the semantic contract (feature definitions)."
    )
    if directory is None:
        folder = Path(tempfile.mkdtemp(prefix="lucid-demo-"))
    else:
        folder = directory.expanduser().resolve()
        if folder.exists() and any(folder.iterdir()):
            raise InvalidInput("--dir", f"{folder} must be a new or empty folder")
    result = run_foundation_demo(folder, os.environ, console.print)
    if (
        not result.verdict.ok
        or result.tampered_verdict.first_bad != result.tampered_event
        or (result.contradictions_before, result.contradictions_after) != (3, 0)
    ):
        console.print("[bold red]demo failed[/]: the chain did not behave as it must")
        raise typer.Exit(1)
    console.print(f"[green]Demo complete.[/] Explore it: lucid --project {folder} events list")
