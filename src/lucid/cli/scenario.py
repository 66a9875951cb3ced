"""`lucid scenario`: generate the synthetic SaaS churn world into a project."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.table import Table

from lucid.cli.context import console
from lucid.errors import InvalidInput
from lucid.project import init_project
from lucid.project_folder import CONFIG_FILE
from lucid.scenarios.churn.activity import SOURCES
from lucid.scenarios.churn.world import World, WorldConfig
from lucid.scenarios.churn.world_files import write_ground_truth, write_world
from lucid.settings import default_actor, load_settings

app = typer.Typer(help="The reference scenario: the synthetic SaaS churn world.")


@app.command()
def generate(
    directory: Path = typer.Argument(
        ..., help="A new (or empty) folder, made a Lucid project, or an existing project."
    ),
    customers: int = typer.Option(5_000, "--customers", help="Customers at day 0."),
    days: int = typer.Option(365, "--days", help="Simulated days."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed, the same world."),
) -> None:
    """Simulate the churn world and write its sources (Parquet) into the project's data folder."""
    config = WorldConfig(customers=customers, days=days, seed=seed)
    folder = directory.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("DIR", f"{folder} exists and is not a folder")
    if (folder / CONFIG_FILE).exists():
        data = load_settings(folder, os.environ).data_dir
    elif folder.exists() and any(folder.iterdir()):
        raise InvalidInput(
            "DIR", f"{folder} is neither a Lucid project nor empty; name a new folder or a project"
        )
    else:
        init_project(folder, actor=default_actor(os.environ), environ=os.environ).close()
        data = folder / "data"
    if data != folder / "data":
        raise InvalidInput(
            "data_dir", "the churn sources are declared under data/; keep the default"
        )
    for source in (*SOURCES, "customers"):
        if any((data / source).glob("*.parquet")):
            raise InvalidInput(
                "DIR", f"{data / source} already holds data; generate into a new project"
            )
    began = time.perf_counter()
    world = World(config).run()
    simulated = time.perf_counter() - began
    written = write_world(world, folder)
    truth = write_ground_truth(world, folder)
    total = time.perf_counter() - began
    console.print(
        f"Generated the churn world in {folder}: {config.customers} customers at day 0, "
        f"{config.days} days from {config.start:%Y-%m-%d}, seed {config.seed} "
        f"({simulated:.1f} s simulated, {total:.1f} s with the files)"
    )
    rows = Table("table", "rows", "folder")
    for name, count in written.items():
        rows.add_row(name, f"{count:,}", str(data / name))
    console.print(rows)
    retention = world.retention(0, world.day)
    console.print(
        f"Ground truth: {retention.customers_retained:,} of {retention.customers_at_start:,} "
        f"day-0 customers still active at day {world.day} ({retention.retention_rate:.1%}); "
        f"shock schedule in {truth} (for measuring detection delays only)"
    )
    schedule = Table("day", "starts at", "shock")
    for shock in world.shocks:
        schedule.add_row(str(shock.day), f"{world.moment(shock.day):%Y-%m-%d}", shock.description)
    console.print(schedule)
