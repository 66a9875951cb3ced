"""The churn world on disk: one Parquet folder per source under a project's data folder.

`write_world` appends the rows generated since its last call as a new part file per source
(`data/purchases/part-00000.parquet`, …), so a world can be written once at the end or after
every step; `data/customers/customers.parquet` (ground truth) is rewritten each time.
`compact_parts` merges the newest parts into one, as a data team compacts a week of daily
partitions: readers open fewer files, and see the same rows.
Folder names match the sources' `location` in the churn YAML files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lucid.scenarios.churn.activity import SCREENS, SEVERITIES, SOURCES
from lucid.scenarios.churn.world import World

EVENT_TIME = {
    "purchases": "purchased_at",
    "logins": "logged_in_at",
    "app_interactions": "interacted_at",
    "support_tickets": "opened_at",
}
"""Each source's event-time column."""

GROUND_TRUTH_FILE = "world.json"
"""The world's size, seed, calibration, shock schedule and seasons, written at the project root
by the CLI."""


def source_table(world: World, source: str, columns: dict[str, Any]) -> pa.Table:
    """Raw generated columns of `source` as an Arrow table with the source's declared schema
    (an amount a pipeline blanked, NaN in the columns, is null)."""
    ids = pa.array(world.owner_ids, pa.string())
    start = world.start_us
    owners = columns.get("owner", np.zeros(0, np.intp))
    empty = np.zeros(0, np.int64)
    table: dict[str, pa.Array] = {
        "customer_id": ids.take(pa.array(owners, pa.int64())),
        EVENT_TIME[source]: pa.array(columns.get("at", empty) + start, pa.timestamp("us")),
        "ingested_at": pa.array(columns.get("ingested", empty) + start, pa.timestamp("us")),
    }
    if source == "purchases":
        amount = columns.get("amount", np.zeros(0))
        table["amount"] = pa.array(amount, pa.float64(), mask=np.isnan(amount))
    if source != "support_tickets":
        table["is_bot"] = pa.array(columns.get("is_bot", np.zeros(0, bool)), pa.bool_())
    if source == "purchases":
        table["is_test"] = pa.array(columns.get("is_test", np.zeros(0, bool)), pa.bool_())
    if source == "app_interactions":
        codes = columns.get("screen", np.zeros(0, np.int8))
        table["screen"] = pa.array(SCREENS, pa.string()).take(codes)
    if source == "support_tickets":
        codes = columns.get("severity", np.zeros(0, np.int8))
        table["severity"] = pa.array(SEVERITIES, pa.string()).take(codes)
    return pa.table(table)


def write_world(world: World, project_dir: Path) -> dict[str, int]:
    """Write the rows generated since the last write (one new part per source) and the
    customers' ground truth under `project_dir/data`; returns the rows written per table."""
    data = project_dir / "data"
    part = _next_part(data)
    written: dict[str, int] = {}
    for source, columns in world.take_rows().items():
        folder = data / source
        folder.mkdir(parents=True, exist_ok=True)
        table = source_table(world, source, columns)
        pq.write_table(table, folder / f"part-{part:05d}.parquet")
        written[source] = table.num_rows
    customers = world.customers()
    (data / "customers").mkdir(parents=True, exist_ok=True)
    pq.write_table(customers, data / "customers" / "customers.parquet")
    written["customers"] = customers.num_rows
    return written


def compact_parts(project_dir: Path, parts: int) -> None:
    """Merge each source's `parts` newest part files into one (numbered as the oldest of
    them); the same rows in fewer files."""
    for source in SOURCES:
        folder = project_dir / "data" / source
        newest = sorted(folder.glob("part-*.parquet"))[-parts:]
        if len(newest) < 2:
            continue
        merged = pa.concat_tables([pq.read_table(path) for path in newest])
        scratch = folder / f".{newest[0].name}"
        pq.write_table(merged, scratch)
        for path in newest:
            path.unlink()
        scratch.rename(newest[0])


def write_ground_truth(world: World, project_dir: Path) -> Path:
    """`world.json`: `World.ground_truth()` — for measuring detection delays only."""
    path = project_dir / GROUND_TRUTH_FILE
    path.write_text(json.dumps(world.ground_truth(), indent=2) + "\n", encoding="utf-8")
    return path


def write_labels(labels: pa.Table, path: Path) -> Path:
    """Label rows as a Parquet file, the form `FeatureStore.get_training_set` reads fastest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(labels, path)
    return path


def _next_part(data: Path) -> int:
    numbers = [
        int(path.stem.removeprefix("part-"))
        for source in SOURCES
        for path in (data / source).glob("part-*.parquet")
    ]
    return max(numbers, default=-1) + 1
