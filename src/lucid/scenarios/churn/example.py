"""`lucid init --example churn`: a small churn project ready to serve.

A short world is lived by Lucid's arm until its first model is in production: data under
`data/`, the canonical definitions applied and approved by their teams, the churn policy set,
a model registered with its contract and deployed through the gate on the back-test Lucid ran
(no override), the features materialised online at the project's clock."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lucid.bootstrap import open_project
from lucid.errors import Conflict, InvalidInput
from lucid.project import remove_created, set_as_of
from lucid.scenarios.churn import LEGACY_DEFINITIONS
from lucid.scenarios.churn.architecture import MODEL, aware
from lucid.scenarios.churn.contracted import CANONICAL, DEFINITION_FILES
from lucid.scenarios.churn.negentropic import NegentropicArm
from lucid.scenarios.churn.world import WorldConfig

EXAMPLES = ("churn",)
"""The examples `lucid init --example` makes."""
CUSTOMERS = 2_000
"""Customers of the example's world: enough churners for the first back-test to prove."""
MAX_DAYS = 60
"""The example's world stops at the first production model, at the latest after these days."""


@dataclass(frozen=True)
class ExampleProject:
    """What `make_churn_example` made."""

    folder: Path
    model: str
    version: int
    promoted_on: str
    """How the version reached production: the evidence kind, or "override"."""
    as_of: datetime
    features: tuple[str, ...]
    materialised: dict[str, int]
    customers: tuple[str, ...]
    """Two customers paying at the project's clock (for a first prediction)."""
    days: int


def check_example(example: str) -> None:
    """Refuse an example Lucid does not make, naming `--example`."""
    if example not in EXAMPLES:
        raise InvalidInput("--example", f"must be one of {', '.join(EXAMPLES)} (got {example!r})")


def make_churn_example(
    directory: Path, *, name: str | None = None, seed: int = 7
) -> ExampleProject:
    """Make the churn example in `directory` (new or empty), a project named `name` (default:
    the folder's name), and set its clock to the world's end; raises Conflict when no model
    reached production within `MAX_DAYS`. Refused, failed or interrupted at any step, it
    leaves the folder as it found it (absent, or empty)."""
    folder = directory.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("DIR", f"{folder} exists and is not a folder")
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInput("DIR", f"{folder} is not empty; an example is made in a new folder")
    existed = folder.exists()
    try:
        return _made(folder, name, seed)
    except BaseException:  # refused, failed or interrupted: no half-made example is left
        remove_created(folder, existed, set())
        raise


def _made(folder: Path, name: str | None, seed: int) -> ExampleProject:
    config = WorldConfig(customers=CUSTOMERS, days=MAX_DAYS, seed=seed, shocks=())
    arm = NegentropicArm("example", folder, config, project_name=name or folder.name)
    try:
        while arm.production is None and not arm.world.finished:
            arm.cycle()
        version = arm.production
        customers = tuple(arm.world.active_customers()[:2])
        end = aware(arm.world.now)
        days = arm.world.day
    finally:
        arm.close()
    if version is None:
        raise Conflict(f"No churn model reached production in {MAX_DAYS} simulated days.")
    set_as_of(folder, end)
    copy_definitions(folder)
    with open_project(folder, environ={}) as lucid:
        materialised = lucid.features.materialize(list(CANONICAL), at=end)
        promotions = lucid.events.read(limit=1000, type="ModelPromoted", subject=f"model:{MODEL}")
    return ExampleProject(
        folder=folder,
        model=MODEL,
        version=version,
        promoted_on=promoted_on([event.payload_json for event in promotions], version),
        as_of=end,
        features=CANONICAL,
        materialised=materialised,
        customers=customers,
        days=days,
    )


def copy_definitions(folder: Path) -> None:
    """The definition files the example applied, into `definitions/`, and the three teams'
    unapproved ones into `legacy/` (for `lucid features import-legacy`)."""
    for target, files in (("definitions", DEFINITION_FILES), ("legacy", (LEGACY_DEFINITIONS,))):
        (folder / target).mkdir(exist_ok=True)
        for file in files:
            shutil.copyfile(file, folder / target / file.name)


def promoted_on(payloads: list[str], version: int) -> str:
    """The basis (evidence or override) of `version`'s promotion to production, from the
    ModelPromoted payloads of the log."""
    for payload in map(json.loads, payloads):
        if payload["version"] == version and payload["to_stage"] == "production":
            return str(payload["basis"])
    return "none recorded"
