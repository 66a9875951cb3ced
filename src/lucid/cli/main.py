"""The `lucid` root command: global options, command groups, and errors as sentences."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

import lucid
from lucid.cli.context import CliState, errors
from lucid.cli.lazy import LazyCommand, LazyGroup
from lucid.errors import LucidError

COMMANDS = (
    LazyCommand("init", "lucid.cli.project:init"),
    LazyCommand("demo", "lucid.cli.demo:demo"),
    LazyCommand("schema", "lucid.cli.schema:schema"),
    LazyCommand("deploy", "lucid.cli.deployments:deploy"),
    LazyCommand("scorecard", "lucid.cli.scorecard:scorecard"),
    LazyCommand("report", "lucid.cli.incidents:report"),
    LazyCommand("serve", "lucid.cli.service:serve"),
    LazyCommand("schedule", "lucid.cli.schedule:schedule"),
    LazyCommand("db", "lucid.cli.db:app", group=True),
    LazyCommand("events", "lucid.cli.events:app", group=True),
    LazyCommand("features", "lucid.cli.features:app", group=True),
    LazyCommand("models", "lucid.cli.models:app", group=True),
    LazyCommand("monitor", "lucid.cli.monitor:app", group=True),
    LazyCommand("experiments", "lucid.cli.experiments:app", group=True),
    LazyCommand("shadow", "lucid.cli.shadow:app", group=True),
    LazyCommand("checkpoints", "lucid.cli.deployments:checkpoints_app", group=True),
    LazyCommand("incidents", "lucid.cli.incidents:app", group=True),
    LazyCommand("scenario", "lucid.cli.scenario:app", group=True),
    LazyCommand("tokens", "lucid.cli.service:tokens_app", group=True),
    LazyCommand("webhooks", "lucid.cli.service:webhooks_app", group=True),
)
"""Every subcommand of `lucid`, in the order `--help` lists them; each module is imported
only when its command is resolved."""


class LucidGroup(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="lucid",
    help="Lucid: feature store, model registry and drift monitoring bound by three contracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LucidGroup,
)


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
        from rich.markup import escape

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
