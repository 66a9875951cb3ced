"""What every command needs: the project it works on, and JSON or Rich output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from lucid.bootstrap import Lucid, open_project
from lucid.contracts.names import check_person
from lucid.settings import default_actor

console = Console()
errors = Console(stderr=True)


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
    return open_project(state(ctx).project, environ=os.environ)


def acting(actor: str | None) -> str:
    """Who acts: the `--as` given, else the environment's default actor; at most 200
    characters without control characters."""
    return check_person(actor or default_actor(os.environ), "--as")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
