"""`lucid monitor run`, `runs`, `resume`, `digest`, `drill`: runs of the policy and their
reports."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from lucid.cli.context import console, errors, open_lucid, print_json
from lucid.cli.monitor_output import (
    LEVEL_STYLE,
    WINDOW_END,
    WINDOW_START,
    print_evaluation,
    print_run,
    window_options,
)
from lucid.contracts.validity.grades import Level
from lucid.errors import InvalidInput


def run(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None, "--model", help="Run this model (default: every model with a stored policy)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="Version watched (default: production, else latest logged)."
    ),
    window_start: str | None = WINDOW_START,
    window_end: str | None = WINDOW_END,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the policy over a window of the prediction and outcome logs (default: the last
    complete period of the policy's frequency); every threshold graded, the run stored once
    per window, then alerts, freeze, rollback and retraining taken."""
    start, end = window_options(window_start, window_end)
    with open_lucid(ctx) as lucid:
        models = [model] if model else lucid.monitoring.models()
        if not models:
            raise InvalidInput(
                "--model", "no model has a stored policy; name one or store its policy first"
            )
        reports = [
            lucid.monitoring.run(name, start=start, end=end, version=version) for name in models
        ]
    if as_json:
        print_json([r.to_dict() for r in reports] if model is None else reports[0].to_dict())
        return
    for report in reports:
        print_run(report)


def runs(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="The model."),
    limit: int = typer.Option(20, "--limit", help="The latest this many runs (at least 1)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, every check included."),
) -> None:
    """List the model's stored runs, oldest window first: level, actions and the checks
    outside their band (read only; `run` with a run's window prints all its checks)."""
    if limit < 1:
        raise InvalidInput("--limit", f"must be at least 1, not {limit}")
    with open_lucid(ctx) as lucid:
        found = lucid.monitoring.store.runs(model, limit=limit)
    if as_json:
        print_json([run.to_dict() for run in found])
        return
    if not found:
        console.print(f"No stored run of {model}.")
        return
    table = Table()
    table.add_column("window start", no_wrap=True)
    table.add_column("window end", no_wrap=True)
    for name in ("version", "level", "actions"):
        table.add_column(name)
    table.add_column("outside their band", overflow="fold")
    for record in found:
        level = Level(record.level)
        outside = [
            f"{c['threshold']}"
            + (f"[{c['feature']}]" if c.get("feature") else "")
            + f"={c['level']}"
            for c in record.checks
            if c["level"] in (Level.WARNING.value, Level.CRITICAL.value)
        ]
        start, _, end = record.window.replace(".000000Z", "Z").partition("/")
        table.add_row(
            start,
            end,
            record.version,
            f"[{LEVEL_STYLE[level]}]{level.value}[/]",
            escape(", ".join(record.actions)) or "-",
            escape(", ".join(outside)) or "-",
        )
    console.print(table)


def resume(
    ctx: typer.Context,
    model: str | None = typer.Option(None, "--model", help="Only this model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Finish the alerts, actions and incident of runs whose process died after storing them
    (each step exactly once; `run` does it too). Cron-friendly."""
    with open_lucid(ctx) as lucid:
        reports = lucid.monitoring.resume(model)
    if as_json:
        print_json([r.to_dict() for r in reports])
        return
    for report in reports:
        print_run(report)
    console.print(f"{len(reports)} interrupted runs finished")


def digest(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None, "--model", help="Only this model (default: every model with a stored policy)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Send each due stakeholder digest: the last complete reporting period's runs and
    levels, open incidents and unacknowledged alerts; once per period (cron-friendly)."""
    with open_lucid(ctx) as lucid:
        if model is None and not lucid.monitoring.models():
            raise InvalidInput(
                "--model", "no model has a stored policy; name one or store its policy first"
            )
        reports = lucid.monitoring.send_digests(model=model)
    if as_json:
        print_json([r.to_dict() for r in reports])
        return
    for report in reports:
        sent = ", ".join(
            f"{d.channel} {'delivered' if d.delivered else 'FAILED'} ({d.attempts} attempts)"
            for d in report.deliveries
        )
        console.print(f"digest of {report.digest.model} for {report.digest.period}: {sent}")
    console.print(f"{len(reports)} digests sent")


def drill(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="The model."),
    shifts: list[str] = typer.Option(
        ..., "--shift", help="COLUMN=+Xsd, COLUMN=-X or COLUMN=*X (repeatable)."
    ),
    expect: str | None = typer.Option(
        None, "--expect", help="Level the drill must reach (warning, critical); exit 1 if not."
    ),
    version: str | None = typer.Option(None, "--version", help="Version watched."),
    window_start: str | None = WINDOW_START,
    window_end: str | None = WINDOW_END,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Inject a known shift into a copy of the window and grade it with the policy; nothing
    is stored as a run and no action is taken."""
    start, end = window_options(window_start, window_end)
    with open_lucid(ctx) as lucid:
        report = lucid.monitoring.drill(
            model, shifts, start=start, end=end, version=version, expect=expect
        )
    if as_json:
        print_json(report.to_dict())
    else:
        print_evaluation(report.evaluation, f"drill on {model}, window {report.window.key}")
    if report.passed is False:
        errors.print(
            f"drill failed: expected at least {expect}, the policy graded "
            f"{report.evaluation.level.value}"
        )
        raise typer.Exit(1)
