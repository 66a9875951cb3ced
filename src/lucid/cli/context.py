"""What every command needs: the project it works on, and JSON or Rich output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from lucid.bootstrap import Lucid


class LazyConsole:
    """A Rich console on stdout (or stderr), made on first use: a command that prints only
    JSON never imports Rich. The stderr console writes each message on one line (the
    terminal wraps it): a path or a command in an error sentence is never cut in two."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def rich_console(self) -> Console:
        """The Rich console itself, for what takes one (a progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, soft_wrap=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich_console(), name)


console = LazyConsole()
errors = LazyConsole(stderr=True)


@dataclass
class CliState:
    """Options of the root command, shared with every subcommand."""

    project: Path | None = None
    debug: bool = False


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def open_lucid(ctx: typer.Context) -> Lucid:
    """Open the project named by `--project`, `$LUCID_PROJECT` or the current folder."""
    from lucid.bootstrap import open_project  # here: the root command imports this module

    return open_project(state(ctx).project, environ=os.environ)


def acting(actor: str | None) -> str:
    """Who acts, in the normal form of a name: the `--actor` given, else the environment's
    default actor."""
    from lucid.contracts.identities import normalise_identity
    from lucid.settings import default_actor

    return normalise_identity(actor or default_actor(os.environ), "actor")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
