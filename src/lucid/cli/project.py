"""`lucid init`: make an embedded project, empty or with a runnable example."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from lucid.cli.context import console
from lucid.project import init_project
from lucid.project_folder import CONFIG_FILE
from lucid.settings import default_actor

SERVE_URL = "http://127.0.0.1:8000"
"""`lucid serve` at its default host and port."""


def init(
    directory: Path = typer.Argument(..., help="Folder of the new project (made if missing)."),
    name: str | None = typer.Option(None, help="Project name (default: the folder name)."),
    example: str | None = typer.Option(
        None,
        "--example",
        help="Make a runnable example instead of an empty project: churn (data, approved "
        "features, a model in production, a policy; about 10 s).",
    ),
) -> None:
    """Make an embedded project: lucid.yaml, SQLite metadata, DuckDB engine, local folders."""
    if example is not None:
        _example(directory, example, name)
        return
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


def _example(directory: Path, example: str, name: str | None) -> None:
    from lucid.scenarios.churn.example import check_example, make_churn_example

    check_example(example)
    started = time.perf_counter()
    made = make_churn_example(directory, name=name)
    seconds = time.perf_counter() - started
    folder = made.folder
    as_of = made.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = sum(made.materialised.values())
    body = '{"entity_id": "' + made.customers[0] + '"}'
    console.print(f"Made the churn example in {folder} in {seconds:.1f} s:", highlight=False)
    for line in (
        f"data        data/, labels/ ({made.days} simulated days of activity, spend, "
        "tickets; labelled snapshots)",
        "definitions definitions/ (applied), legacy/ (three teams' unapproved definitions)",
        f"features    {', '.join(made.features)}: applied, approved by marketing, "
        "data-science and product",
        f"model       {made.model} v{made.version} in production with its retention contract, "
        f"promoted on {made.promoted_on} ({_basis(made.promoted_on)})",
        f"monitoring  the churn policy, daily (lucid monitor policy show {made.model})",
        f"online      {rows} feature rows materialised at the project's clock, {as_of}",
    ):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print("Next:", highlight=False)
    for line in (
        f"cd {folder}",
        "lucid serve",
        "# in another shell, from the same folder:",
        "export TOKEN=$(lucid tokens create --person me --role service --json "
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')",
        f"curl -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' "
        f"-d '{body}' {SERVE_URL}/v1/predict/{made.model}",
        f"# dashboard: {SERVE_URL}/dashboard (sign in with a token: "
        "lucid tokens create --person me --role viewer)",
    ):
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


def _basis(basis: str) -> str:
    if basis == "evidence":
        return "the back-test Lucid ran; no override"
    return "recorded as such in the event log"
