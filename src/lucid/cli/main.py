"""The `lucid` root command: global options, command groups, and errors as sentences."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

import lucid
from lucid.cli import (
    db,
    demo,
    deployments,
    events,
    experiments,
    features,
    incidents,
    models,
    monitor,
    project,
    scenario,
    schedule,
    schema,
    service,
    shadow,
)
from lucid.cli.context import CliState, errors
from lucid.errors import LucidError

app = typer.Typer(
    name="lucid",
    help="Lucid: feature store, model registry and drift monitoring bound by three contracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(project.init)
app.command("demo")(demo.demo)
app.command("schema")(schema.schema)
app.add_typer(db.app, name="db")
app.add_typer(events.app, name="events")
app.add_typer(features.app, name="features")
app.add_typer(models.app, name="models")
app.add_typer(monitor.app, name="monitor")
app.add_typer(experiments.app, name="experiments")
app.add_typer(shadow.app, name="shadow")
app.command("deploy")(deployments.deploy)
app.add_typer(deployments.checkpoints_app, name="checkpoints")
app.command("scorecard")(deployments.scorecard)
app.add_typer(incidents.app, name="incidents")
app.command("report")(incidents.report)
app.add_typer(scenario.app, name="scenario")
app.add_typer(service.tokens_app, name="tokens")
app.add_typer(service.webhooks_app, name="webhooks")
app.command("serve")(service.serve)
app.command("schedule")(schedule.schedule)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lucid {lucid.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    project_dir: Path | None = typer.Option(
        None,
        "--project",
        "-p",
        help="Project folder (default: $LUCID_PROJECT or the nearest folder holding lucid.yaml).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    ctx.obj = CliState(project=project_dir, debug=debug)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `lucid` script: a domain error becomes its sentence and exit 1."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="lucid")
    except LucidError as error:
        if debug:
            raise
        errors.print(f"[bold red]error:[/] {escape(error.sentence)}", highlight=False)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug: say so in one line, the traceback is one flag away
        if debug:
            raise
        errors.print(
            f"[bold red]internal error:[/] {type(error).__name__}: {error} "
            "(run again with --debug for the traceback)",
            highlight=False,
        )
        sys.exit(70)
