"""The end-to-end path `lucid demo` runs until the churn scenario exists.

It exercises the foundation for real: a new embedded project, decisions appended to the
hash-chained log (one by one and in a batch), the chain verified, and a tampered copy of the
database caught at the exact event that was changed.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lucid.bootstrap import bootstrap
from lucid.contracts.events import ChainVerdict, DecisionRecorded, NewEvent, Subject
from lucid.project import init_project
from lucid.settings import load_settings

DECISIONS = [
    (
        "Adopt one canonical activity definition",
        "customer_activity_30d replaces the three team definitions",
        "Marketing, Data Science and Product each measured 'activity' differently",
    ),
    (
        "Require a business-impact contract",
        "no churn model is registered without retention targets",
        "accuracy gains never showed up in retention",
    ),
    (
        "Monitor drift on every run",
        "PSI 0.1 warns, 0.2 triggers retraining",
        "the 2020 behaviour shift went unnoticed for months",
    ),
]


@dataclass
class DemoResult:
    project_dir: Path
    events: int
    single_appends_per_s: float
    batch_appends_per_s: float
    verdict: ChainVerdict
    tampered_verdict: ChainVerdict
    tampered_event: str


def run_foundation_demo(
    folder: Path, environ: Mapping[str, str], say: Callable[[str], None], batch: int = 2_000
) -> DemoResult:
    """Run the foundation end to end in `folder` (a new project) and report through `say`."""
    say(f"1. Creating an embedded project in {folder} (SQLite metadata, DuckDB, local files)")
    with init_project(folder, name="lucid-demo", actor="demo", environ=environ) as lucid:
        say("2. Recording the three founding decisions, each with its rationale")
        for title, decision, why in DECISIONS:
            lucid.events.append(
                NewEvent.of(
                    DecisionRecorded(title=title, decision=decision),
                    actor="demo",
                    subject=Subject("project", "lucid-demo"),
                    rationale=why,
                )
            )
        started = time.perf_counter()
        singles = 500
        for number in range(singles):
            lucid.events.append(_routine(number))
        single_rate = singles / (time.perf_counter() - started)
        started = time.perf_counter()
        lucid.events.append_many([_routine(singles + n) for n in range(batch)])
        batch_rate = batch / (time.perf_counter() - started)
        say(
            f"3. Appended {singles} events one per transaction ({single_rate:,.0f}/s) and "
            f"{batch} in one batch ({batch_rate:,.0f}/s)"
        )
        verdict = lucid.events.verify()
        say(f"4. Verified the chain: {verdict.events} events, ok={verdict.ok}")
        target = lucid.events.read(after=1, limit=1)[0]

    copy = folder / "tampered-copy"
    copy.mkdir()
    shutil.copy(folder / "lucid.yaml", copy / "lucid.yaml")
    database = Path(load_settings(folder, environ).database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as source, sqlite3.connect(copy / "metadata.db") as dest:
        source.backup(dest)
    _tamper(copy / "metadata.db", target.seq)
    with bootstrap(load_settings(copy, {})) as tampered:
        tampered_verdict = tampered.events.verify()
    say(
        f"5. Rewrote the decision at position {target.seq} in a copy of the database, as an "
        "administrator bypassing the append-only triggers could"
    )
    say(
        f"   verify on the copy: ok={tampered_verdict.ok}, first bad event "
        f"{tampered_verdict.first_bad} — {tampered_verdict.reason}"
    )
    return DemoResult(
        folder, verdict.events, single_rate, batch_rate, verdict, tampered_verdict, target.id
    )


def _routine(number: int) -> NewEvent:
    return NewEvent.of(
        DecisionRecorded(title=f"Routine review {number}", decision="keep the current model"),
        actor="demo",
        subject=Subject("model", "churn@1"),
        rationale="weekly review found no drift",
    )


def _tamper(database: Path, seq: int) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TRIGGER events_append_only_update")
        connection.execute("UPDATE events SET rationale = 'nobody objected' WHERE seq = ?", (seq,))
