"""`lucid demo`: the project's main job — the churn world lived by both architectures."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
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


DEFAULT_DIR = Path("lucid-demo")
"""Where `lucid demo` writes when `--dir` is not given (the tutorial's folder)."""
MARKER = ".lucid-demo"
"""The file a demo writes into its folder first: `--force` replaces only a folder holding it."""
SERVE_URL = "http://127.0.0.1:8000/dashboard"
"""The dashboard of `lucid serve` at its default host and port."""
SHOCK_COLUMNS = (
    ("kind", "shock"),
    ("day", "day"),
    ("detection_delay_days", "detected after (days)"),
    ("detected_by", "detected by"),
    ("recovery_days", "recovered after (days)"),
    ("floor_days", "floor (days)"),
)
"""The per-shock table's columns: JSON key, heading."""
ARM_COUNTS = (("false_alarm_incidents", "false-alarm incidents"),)
VALUE_ROWS = (
    ("revenue_kept_vs_no_model", "monthly revenue kept vs no model"),
    ("models", "models that served"),
    ("value_per_model", "value per model (revenue kept)"),
)
"""The value rows: key of an arm's `value`, label."""


def prepare_folder(directory: Path, *, force: bool) -> Path:
    """The demo's folder, made and marked as a demo's: a new or empty folder, or with
    `force` a previous demo's (it is deleted first). A non-empty folder without the marker
    is refused even with `force`: the demo never deletes files it did not write."""
    folder = directory.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("--dir", f"{folder} exists and is not a folder")
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise InvalidInput(
                "--dir",
                f"{folder} is not empty and holds no previous Lucid demo (no {MARKER}); the "
                "demo writes only into a new or empty folder and never deletes other files, "
                "even with --force: choose another --dir",
            )
        if not force:
            raise InvalidInput(
                "--dir",
                f"{folder} holds a previous Lucid demo and the demo writes only into a new or "
                "empty folder; pass --force to replace it",
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(
        "This folder was written by `lucid demo`; `lucid demo --force` replaces it.\n",
        encoding="utf-8",
    )
    return folder


def world_end(world: dict[str, Any]) -> datetime:
    """The simulated world's last moment (UTC): its start plus its days."""
    start = datetime.fromisoformat(str(world["start"]))
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    return start + timedelta(days=int(world["days"]))


def demo(
    directory: Path = typer.Option(
        DEFAULT_DIR, "--dir", help="Folder for the two arms' projects (new or empty)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace the folder when it holds a previous Lucid demo."
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

    if foundation:
        _foundation(prepare_folder(directory, force=force))
        return
    config = WorldConfig(customers=customers, days=days, seed=seed)  # refused before any delete
    folder = prepare_folder(directory, force=force)
    comparison = _compare(config, folder, as_json)
    from lucid.project import set_as_of
    from lucid.scenarios.churn.report import write_report

    end = world_end(comparison.world)
    for arm in ("entropic", "negentropic"):
        set_as_of(folder / arm, end)

    report = write_report(comparison, folder / "report.html")
    summary = comparison.to_dict()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_summary(summary, config)
    console.print(f"Wall time {summary['wall_seconds']} s. Report: {report}")
    console.print(
        f"The demo is in {folder}; both projects' clocks stand at the world's end "
        f"(as_of {end.strftime('%Y-%m-%dT%H:%M:%SZ')})."
    )
    console.print(f"Serve it: lucid serve --project {folder / 'negentropic'}")
    console.print(f"Dashboard: {SERVE_URL}")


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
        console=console.rich_console(),
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
    for key, label in ARM_COUNTS:
        if all(key in summary[arm] for arm in ("entropic", "negentropic")):
            table.add_row(
                label, shown(summary["entropic"][key]), shown(summary["negentropic"][key])
            )
    for key, label in VALUE_ROWS:
        if all(summary[arm].get("value") for arm in ("entropic", "negentropic")):
            table.add_row(
                label,
                shown(summary["entropic"]["value"][key]),
                shown(summary["negentropic"]["value"][key]),
            )
    if all("correlation_interval" in summary[arm] for arm in ("entropic", "negentropic")):
        table.add_row(
            "correlation 95 % interval (pairs)",
            *(_interval(summary[arm]) for arm in ("entropic", "negentropic")),
        )
    console.print(table)
    for shock in summary["world"]["shocks"]:
        console.print(f"  shock day {shock['day']}: {shock['description']}")
    for arm in ("entropic", "negentropic"):
        _print_shocks(arm, summary[arm])
    _print_detection(summary)


def _interval(measured: dict[str, Any]) -> str:
    """The correlation's 95 % interval and its number of version pairs, as the table shows it."""
    interval, pairs = measured["correlation_interval"], measured.get("correlation_pairs", 0)
    if interval is None:
        return f"— ({pairs})"
    return f"[{interval[0]:.2f}, {interval[1]:.2f}] ({pairs})"


def _print_shocks(arm: str, measured: dict[str, Any]) -> None:
    """The referee's table of each shock for one arm; nothing when the arm has none."""
    from lucid.scenarios.churn.comparison import shown

    shocks = measured.get("shocks")
    if not shocks:
        return
    table = Table(title=f"Each shock, {arm} arm (measured by the referee)")
    for _, heading in SHOCK_COLUMNS:
        table.add_column(heading)
    for shock in shocks:
        table.add_row(
            *(
                "—" if shock.get(key) is None else escape(shown(shock[key]))
                for key, _ in SHOCK_COLUMNS
            )
        )
    console.print(table)


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
            escape(
                ", ".join(found["checks"])
                + ("" if found["related"] or not found["checks"] else " (unrelated column)")
            ),
            escape(attributed),
        )
    console.print(table)
    alarms = summary["false_alarms_before_first_shock"]
    if alarms:
        console.print(
            f"Before the first shock: {alarms['failing_runs']} of {alarms['runs']} daily runs "
            f"at warning or worse, {alarms['incidents_opened']} incident(s) opened"
            + (f"; checks: {alarms['checks']}" if alarms["checks"] else "")
        )
