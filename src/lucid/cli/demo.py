"""`lucid demo`: the project's main job — the churn world lived by both architectures."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lucid.cli.context import console
from lucid.contracts.scorecard import SCORECARD_KEYS, SCORECARD_LABELS
from lucid.errors import InvalidInput

if TYPE_CHECKING:
    from lucid.scenarios.churn.comparison import Comparison
    from lucid.scenarios.churn.world import WorldConfig

ROWS = (
    *((key, SCORECARD_LABELS[key]) for key in SCORECARD_KEYS),
    ("retention_rate", "retention since first deployment"),
    ("revenue_kept", "monthly revenue kept"),
)


def _folder(directory: Path | None) -> Path:
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="lucid-demo-"))
    folder = directory.expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInput("--dir", f"{folder} must be a new or empty folder")
    return folder


def demo(
    directory: Path | None = typer.Option(
        None, "--dir", help="Folder for the two arms' projects (default: a new temporary one)."
    ),
    customers: int = typer.Option(4_000, "--customers", help="Customers at day 0."),
    days: int = typer.Option(365, "--days", help="Simulated days."),
    seed: int = typer.Option(7, "--seed", help="The world's seed: same seed, same table."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    foundation: bool = typer.Option(
        False, "--foundation", help="Run the foundation walk-through (event log, audit) instead."
    ),
) -> None:
    """Live one SaaS churn world with the entropic and the negentropic architecture, and
    print the seed's scorecard for both, measured (SQLite + DuckDB + local files)."""
    from lucid.scenarios.churn.world import WorldConfig

    folder = _folder(directory)
    if foundation:
        _foundation(folder)
        return
    config = WorldConfig(customers=customers, days=days, seed=seed)
    comparison = _compare(config, folder, as_json)
    from lucid.scenarios.churn.report import write_report

    report = write_report(comparison, folder / "report.html")
    summary = comparison.to_dict()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_summary(summary, config)
    console.print(f"Wall time {summary['wall_seconds']} s. Report: {report}")
    console.print(
        f"The negentropic arm's project stays in place: lucid serve --project "
        f"{folder / 'negentropic'}"
    )


def _foundation(folder: Path) -> None:
    """The foundation walk-through; exit 1 when the chain or the audit misbehaves."""
    from lucid.scenarios.foundation import run_foundation_demo

    result = run_foundation_demo(folder, os.environ, console.print)
    if (
        not result.verdict.ok
        or result.tampered_verdict.first_bad != result.tampered_event
        or (result.contradictions_before, result.contradictions_after) != (3, 0)
    ):
        console.print("[bold red]demo failed[/]: the chain did not behave as it must")
        raise typer.Exit(1)
    console.print(f"[green]Demo complete.[/] Explore it: lucid --project {folder} events list")


def _compare(config: WorldConfig, folder: Path, quiet: bool) -> Comparison:
    """Both arms live the world, with a progress bar per arm unless `quiet`."""
    from lucid.scenarios.churn.comparison import run_comparison

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=quiet,
        disable=quiet,
    ) as progress:
        tasks = {
            arm: progress.add_task(f"{arm} arm", total=config.days)
            for arm in ("entropic", "negentropic")
        }

        def advance(arm: str, day: int, total: int) -> None:
            progress.update(tasks[arm], completed=day)

        return run_comparison(config, folder, advance)


def _print_summary(summary: dict[str, Any], config: WorldConfig) -> None:
    """The scorecard of both arms side by side, then the world's shocks."""
    from lucid.scenarios.churn.comparison import PROMOTION_ROWS, promotion_cells, shown

    table = Table(
        title=f"Measured on one world: {config.customers:,} customers, {config.days} days, "
        f"seed {config.seed}"
    )
    table.add_column("measured")
    table.add_column("entropic", justify="right")
    table.add_column("negentropic", justify="right")
    for key, label in ROWS:
        table.add_row(label, shown(summary["entropic"][key]), shown(summary["negentropic"][key]))
    cells = {
        arm: promotion_cells(summary[arm]["promotions"]) for arm in ("entropic", "negentropic")
    }
    for key, label in PROMOTION_ROWS:
        table.add_row(label, cells["entropic"][key], cells["negentropic"][key])
    console.print(table)
    for shock in summary["world"]["shocks"]:
        console.print(f"  shock day {shock['day']}: {shock['description']}")
    _print_detection(summary)


def _print_detection(summary: dict[str, Any]) -> None:
    """Each shock's detection by the negentropic arm's daily runs, and its false alarms."""
    table = Table(title="Detection by the negentropic arm's daily runs")
    for column in ("shock", "first day", "first flagged", "delay (days)", "by", "attributed"):
        table.add_column(column)
    for found in summary["detection"]:
        attributed = (
            f"day {found['attributed_day']} (+{found['attributed_delay_days']} d): "
            + ", ".join(found["attributed_checks"])
            if found["attributed_day"] is not None
            else "—"
        )
        table.add_row(
            found["shock"],
            str(found["start_day"]),
            "—" if found["first_flagged_day"] is None else str(found["first_flagged_day"]),
            "—" if found["delay_days"] is None else str(found["delay_days"]),
            ", ".join(found["checks"])
            + ("" if found["related"] or not found["checks"] else " (unrelated column)"),
            attributed,
        )
    console.print(table)
    alarms = summary["false_alarms_before_first_shock"]
    if alarms:
        console.print(
            f"Before the first shock: {alarms['failing_runs']} of {alarms['runs']} daily runs "
            f"at warning or worse, {alarms['incidents_opened']} incident(s) opened"
            + (f"; checks: {alarms['checks']}" if alarms["checks"] else "")
        )
