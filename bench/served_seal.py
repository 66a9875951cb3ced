"""The skew report over served feature values kept as rows, then sealed into served segments.

Copies a demo project (`--project`, the `negentropic` folder of `lucid demo`; else builds one
with `lucid demo --customers 400 --days 120` in a scratch folder), repeats its served values
(same entities, features, times and values, new ids) until `served_features` holds
`--values`, then times on the copy:

- the read of every served value (`FeatureRepository.served()`) and `measure_skew` (the
  read plus every value recomputed offline), all values rows;
- the seal (`lucid.monitoring.seal()`, at the project's clock: every ended day);
- the same read and report again, most values in served segments (read through DuckDB):
  the values read are checked identical, the report's counts identical and its rates equal
  within 1e-12 (the offline recomputation's float sums vary in the last bits from one call
  to the next, sealed or not).

    PYTHONPATH=src uv run python bench/served_seal.py [--project DIR] [--values 500000]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def build_demo(folder: Path) -> Path:
    """A small demo in `folder`; returns its negentropic project."""
    subprocess.run(
        [
            *(sys.executable, "-m", "lucid", "demo", "--dir", str(folder / "demo")),
            *("--customers", "400", "--days", "120"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return folder / "demo" / "negentropic"


def grow(database: Path, values: int) -> int:
    """Repeat the served values until the table holds `values` rows; the count."""
    connection = sqlite3.connect(database)
    try:
        [(count,)] = connection.execute("SELECT count(*) FROM served_features").fetchall()
        if not count:
            raise SystemExit("the project holds no served value")
        while count < values:
            connection.execute(
                "INSERT INTO served_features (served_at, entity, feature, value, as_of, status) "
                "SELECT served_at, entity, feature, value, as_of, status FROM served_features "
                f"ORDER BY id LIMIT {min(count, values - count)}"
            )
            [(count,)] = connection.execute("SELECT count(*) FROM served_features").fetchall()
        connection.commit()
    finally:
        connection.close()
    return int(count)


def same(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-12."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=None)
    parser.add_argument("--values", type=int, default=500_000)
    args = parser.parse_args()

    from lucid.bootstrap import open_project

    with tempfile.TemporaryDirectory() as scratch:
        source = args.project or build_demo(Path(scratch))
        project = Path(scratch) / "copy"
        shutil.copytree(source, project)
        count = grow(project / "metadata.db", args.values)
        print(f"{count} served values; load average {os.getloadavg()[0]:.1f}")
        with open_project(project) as lucid:

            def read() -> list[Any]:
                with lucid.uows.read() as uow:
                    return uow.features.served()

            read_rows, rows = timed(read)
            skew_rows, before = timed(lambda: lucid.features.skew_report().to_dict())
            sealing, report = timed(lucid.monitoring.seal)
            read_sealed, sealed = timed(read)
            skew_sealed, after = timed(lambda: lucid.features.skew_report().to_dict())
        assert sealed == rows, "the values read differ after the seal"
        assert same(after, before), "the report differs after the seal"
        print(
            f"seal: {report.served} values into {report.served_segments} segments "
            f"in {sealing:.1f} s"
        )
        print(f"read every value: rows {read_rows:.2f} s, sealed {read_sealed:.2f} s")
        print(f"measure_skew: rows {skew_rows:.1f} s, sealed {skew_sealed:.1f} s (same report)")
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
