"""Outcomes through the public path: 1 M outcomes logged, then a policy run with labels
(concept drift: accuracy against the reference's) over 1 M predictions, beside floors
measured in the same run.

Writes a reference file (5 numeric + 1 categorical column, `score`, `label`), a current file
(the same columns with `id`, `entity`, `served_at` over one day) and an outcome file
(`prediction_id`, `label`, `observed_at`: one per prediction), makes a project, logs the
predictions and builds the profile, then runs each phase in a fresh process so its peak
memory (VmHWM) is its own:

- outcomes: `lucid monitor outcomes FILE`'s use case (`Monitoring.log_outcomes_file`);
- outcomes_floor: DuckDB reads the outcome file, keeps the rows whose prediction exists (a
  semi join on the prediction file) and writes them as one Parquet file;
- run: `lucid monitor run`'s use case over the day (`Monitoring.run`), outcomes joined;
- run_floor: DuckDB joins the two files by id and computes the accuracy and each numeric
  column's deciles and bin counts (what the run needs at the least);
- latest_before: the entity join rule alone (`PredictionLog.latest_before`) for them;
- entity: `--entity-rows` outcomes of a second model joined by entity (the latest
  prediction of the entity before the outcome), its predictions `--entity-rows` x 4.

    uv run python bench/outcomes.py [--rows 1000000] [--entity-rows 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from phases import run_phase

NUMERIC = 5
RUN_DAY = datetime(2026, 11, 3, tzinfo=UTC)
CHUNK = 500_000


def generate(workdir: Path, rows: int) -> None:
    """The reference, current and outcome files (in chunks)."""
    for name, seed, current in (("reference", 1, False), ("current", 2, True)):
        writer = None
        rng = np.random.default_rng(seed)
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            columns: dict[str, Any] = {}
            if current:
                columns["id"] = pa.array([f"p{i:09d}" for i in range(start, start + n)])
                columns["entity"] = pa.array([f"e{i % 200_000}" for i in range(start, start + n)])
                seconds = (np.arange(start, start + n) * 86_399 // max(rows, 1)).astype("int64")
                base = np.datetime64(RUN_DAY.replace(tzinfo=None), "us")
                columns["served_at"] = pa.array(base + seconds * 1_000_000, pa.timestamp("us"))
            for column in range(NUMERIC):
                shift = 0.3 if current and column < 2 else 0.0
                columns[f"x{column}"] = rng.normal(shift, 1.0, n)
            columns["plan"] = pa.array(rng.choice(["basic", "pro", "team"], n).tolist())
            score = rng.random(n)
            columns["score"] = score
            truth = (rng.random(n) < score).astype("int64")
            if current:  # the current side's labels drift: 20 % flipped
                flip = rng.random(n) < 0.2
                truth = np.where(flip, 1 - truth, truth)
            if not current:
                columns["label"] = truth
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(workdir / f"{name}.parquet", table.schema)
            writer.write_table(table)
            if current:
                outcomes = pa.table(
                    {
                        "prediction_id": columns["id"],
                        "label": truth,
                        "observed_at": pa.array(
                            [RUN_DAY + timedelta(days=1)] * n, pa.timestamp("us", "UTC")
                        ),
                    }
                )
                mode = "outcomes.parquet"
                if start == 0:
                    outcome_writer = pq.ParquetWriter(workdir / mode, outcomes.schema)
                outcome_writer.write_table(outcomes)
        assert writer is not None
        writer.close()
    outcome_writer.close()


def generate_entity(workdir: Path, rows: int) -> None:
    """A second model's predictions (4 per entity over the day) and one outcome per entity
    joined by entity."""
    rng = np.random.default_rng(3)
    n = rows * 4
    base = np.datetime64(RUN_DAY.replace(tzinfo=None), "us")
    served = base + (np.arange(n) * 86_399 // n).astype("int64") * 1_000_000
    predictions = pa.table(
        {
            "entity": pa.array([f"e{i % rows}" for i in range(n)]),
            "served_at": pa.array(served, pa.timestamp("us")),
            "x0": rng.normal(0, 1, n),
            "score": rng.random(n),
        }
    )
    pq.write_table(predictions, workdir / "entity_predictions.parquet")
    outcomes = pa.table(
        {
            "entity": pa.array([f"e{i}" for i in range(rows)]),
            "label": (rng.random(rows) < 0.5).astype("int64"),
            "observed_at": pa.array(
                [RUN_DAY + timedelta(days=1)] * rows, pa.timestamp("us", "UTC")
            ),
        }
    )
    pq.write_table(outcomes, workdir / "entity_outcomes.parquet")


def peak_mib() -> float:
    """Peak resident memory of this process (VmHWM: reset at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _project(workdir: Path) -> Any:
    from lucid.bootstrap import open_project

    lucid = open_project(workdir / "project", environ={})
    lucid.clock = lambda: RUN_DAY + timedelta(days=1, minutes=5)
    return lucid


def _timed(work: Any) -> dict[str, Any]:
    started = time.perf_counter()
    result = work()
    return {"seconds": time.perf_counter() - started, "peak_mib": peak_mib(), "result": result}


def phase_setup(workdir: Path) -> dict[str, Any]:
    """The predictions logged (both models), the profile and the churn policy stored."""
    from lucid.contracts.validity import MonitoringPolicy

    with _project(workdir) as lucid:
        started = time.perf_counter()
        lucid.monitoring.log_predictions_file("churn", 1, workdir / "current.parquet")
        if (workdir / "entity_predictions.parquet").exists():
            lucid.monitoring.log_predictions_file(
                "churn_e", 1, workdir / "entity_predictions.parquet"
            )
        logged = time.perf_counter() - started
        lucid.monitoring.build_profile("churn", 1, reference=workdir / "reference.parquet")
        policy = MonitoringPolicy.churn_default("churn")
        lucid.monitoring.set_policy(policy, actor="bench", rationale="the outcome bench")
    return {"seconds": logged, "peak_mib": peak_mib()}


def phase_outcomes(workdir: Path) -> dict[str, Any]:
    with _project(workdir) as lucid:
        timed = _timed(
            lambda: lucid.monitoring.log_outcomes_file("churn", workdir / "outcomes.parquet")
        )
    report = timed.pop("result")
    return {**timed, "logged": report.logged, "unmatched": len(report.unmatched)}


def phase_entity(workdir: Path) -> dict[str, Any]:
    with _project(workdir) as lucid:
        timed = _timed(
            lambda: lucid.monitoring.log_outcomes_file(
                "churn_e", workdir / "entity_outcomes.parquet"
            )
        )
    report = timed.pop("result")
    return {**timed, "logged": report.logged, "unmatched": len(report.unmatched)}


def phase_latest_before(workdir: Path) -> dict[str, Any]:
    """The entity join rule alone (`PredictionLog.latest_before`) for the entity outcomes."""
    outcomes = pq.read_table(workdir / "entity_outcomes.parquet")
    observed = RUN_DAY + timedelta(days=1)
    latest = observed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    earliest = (observed - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    wanted = [(entity, earliest, latest) for entity in outcomes.column("entity").to_pylist()]
    with _project(workdir) as lucid:
        log = lucid.monitoring.log
        timed = _timed(lambda: log.latest_before("churn_e", wanted))
    found = timed.pop("result")
    return {**timed, "found": sum(1 for i in found if i is not None)}


def phase_outcomes_floor(workdir: Path) -> dict[str, Any]:
    import duckdb

    def work() -> None:
        with duckdb.connect() as connection:
            connection.execute(
                f"COPY (SELECT o.* FROM read_parquet('{workdir / 'outcomes.parquet'}') o "
                f"SEMI JOIN read_parquet('{workdir / 'current.parquet'}') p "
                f"ON p.id = o.prediction_id) TO '{workdir / 'floor.parquet'}' (FORMAT parquet)"
            )

    timed = _timed(work)
    timed.pop("result")
    (workdir / "floor.parquet").unlink()
    return timed


def phase_run(workdir: Path) -> dict[str, Any]:
    with _project(workdir) as lucid:
        lucid.engine, lucid.registry, lucid.monitoring  # noqa: B018
        timed = _timed(
            lambda: lucid.monitoring.run(
                "churn", start=RUN_DAY, end=RUN_DAY + timedelta(days=1), version=1
            )
        )
    record = timed.pop("result").record
    concept = [c for c in record.checks if c["metric"] == "accuracy_drop"]
    return {
        **timed,
        "checks": len(record.checks),
        "accuracy_drop": concept[0]["value"] if concept else None,
        "level": record.level,
    }


def phase_run_floor(workdir: Path) -> dict[str, Any]:
    import duckdb

    current, outcomes = workdir / "current.parquet", workdir / "outcomes.parquet"
    reference = workdir / "reference.parquet"

    def work() -> float:
        with duckdb.connect() as connection:
            [(accuracy,)] = connection.execute(
                f"SELECT avg(CAST((c.score >= 0.5) = (o.label = 1) AS INTEGER)) "
                f"FROM read_parquet('{current}') c JOIN read_parquet('{outcomes}') o "
                "ON o.prediction_id = c.id"
            ).fetchall()
            for column in range(NUMERIC):
                name = f"x{column}"
                [(edges,)] = connection.execute(
                    f"SELECT quantile_cont({name}, [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]) "
                    f"FROM read_parquet('{reference}')"
                ).fetchall()
                for side in (reference, current):
                    connection.execute(
                        "SELECT histogram(len(list_filter($edges, "
                        f"lambda e: e < {name}))) FROM read_parquet('{side}')",
                        {"edges": edges},
                    ).fetchall()
            return float(accuracy)

    timed = _timed(work)
    return {**timed, "accuracy": timed.pop("result")}


PHASES = {
    "setup": phase_setup,
    "outcomes": phase_outcomes,
    "outcomes_floor": phase_outcomes_floor,
    "run": phase_run,
    "run_floor": phase_run_floor,
    "entity": phase_entity,
    "latest_before": phase_latest_before,
}


def child(phase: str, workdir: Path) -> dict[str, Any]:
    return run_phase(__file__, phase, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--entity-rows", type=int, default=100_000, help="0 skips it")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep the files.")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.workdir)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        if not (workdir / "outcomes.parquet").exists():
            generate(workdir, args.rows)
            if args.entity_rows:
                generate_entity(workdir, args.entity_rows)
        if (workdir / "project").exists():
            shutil.rmtree(workdir / "project")
        from lucid.project import init_project

        init_project(workdir / "project", actor="bench", environ={}).close()
        setup = child("setup", workdir)
        print(
            f"{args.rows:,} predictions logged in {setup['seconds']:.1f} s (setup), "
            f"{NUMERIC} numeric + 1 categorical feature; load {os.getloadavg()[0]:.2f}"
        )
        logged = child("outcomes", workdir)
        floor = child("outcomes_floor", workdir)
        run = child("run", workdir)
        run_floor = child("run_floor", workdir)
        print(
            f"Lucid log (monitor outcomes FILE): {logged['seconds']:.2f} s, "
            f"peak {logged['peak_mib']:.0f} MiB, {logged['logged']:,} outcomes"
        )
        print(
            f"log floor (DuckDB semi join + Parquet): {floor['seconds']:.2f} s, "
            f"peak {floor['peak_mib']:.0f} MiB; ratio {logged['seconds'] / floor['seconds']:.1f}x"
        )
        print(
            f"Lucid run with labels (monitor run):  {run['seconds']:.2f} s, "
            f"peak {run['peak_mib']:.0f} MiB; {run['checks']} checks, accuracy_drop "
            f"{run['accuracy_drop']}, level {run['level']}"
        )
        print(
            f"run floor (DuckDB join + deciles):    {run_floor['seconds']:.2f} s, "
            f"peak {run_floor['peak_mib']:.0f} MiB; ratio "
            f"{run['seconds'] / run_floor['seconds']:.1f}x"
        )
        if args.entity_rows:
            join = child("latest_before", workdir)
            print(
                f"entity join rule alone (latest_before, {args.entity_rows:,} entities): "
                f"{join['seconds']:.2f} s, peak {join['peak_mib']:.0f} MiB, {join['found']:,} found"
            )
            entity = child("entity", workdir)
            print(
                f"Lucid log by entity ({args.entity_rows:,} outcomes, "
                f"{args.entity_rows * 4:,} predictions): {entity['seconds']:.2f} s, "
                f"peak {entity['peak_mib']:.0f} MiB, {entity['logged']:,} logged, "
                f"{entity['unmatched']:,} unmatched"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
