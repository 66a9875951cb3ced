"""The foundation walk-through `lucid demo --foundation` runs, step by step in plain words.

It exercises the foundation for real: a new embedded project, decisions appended to the
hash-chained log, the chain verified and a tampered copy caught at the changed event; then the
semantic contract on a seeded sample of activity — the seed's three contradictory "activity"
definitions audited, the canonical `customer_activity_30d` proposed, a self-approval refused,
the three teams' approvals, the legacy definitions retired, and the feature computed.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lucid.bootstrap import Lucid, bootstrap
from lucid.contracts.events import ChainVerdict, DecisionRecorded, NewEvent, Subject
from lucid.contracts.semantic import Status
from lucid.errors import LucidError
from lucid.features.definition_files import load_definitions
from lucid.project import init_project
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, LEGACY_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
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
    contradictions_before: int = -1
    contradictions_after: int = -1


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
    result = DemoResult(
        folder, verdict.events, single_rate, batch_rate, verdict, tampered_verdict, target.id
    )
    with bootstrap(load_settings(folder, environ)) as lucid:
        _semantic_contract(lucid, result, say)
    return result


TEAMS = {"marketing": "mia", "data-science": "sam", "product": "paul"}


def _semantic_contract(lucid: Lucid, result: DemoResult, say: Callable[[str], None]) -> None:
    """The seed's sections 3.1.1 and 6.1: three activities, one canonical definition."""
    end = write_sample_activity(lucid.settings.project_dir)
    say(
        "6. Semantic contract — wrote a seeded sample of purchases and logins (with bots and "
        "test transactions)"
    )
    lucid.features.import_legacy(
        load_definitions(LEGACY_DEFINITIONS),
        actor="audit",
        rationale="the three teams' existing activity definitions",
    )
    report = lucid.features.audit()
    result.contradictions_before = report.contradictory_definitions
    say(
        f"   audit: {report.contradictory_definitions} contradictory definitions of "
        f"'{report.concepts[0].concept}'"
    )
    for field_name, values in report.concepts[0].differences:
        if field_name in ("window", "sources"):
            listed = "; ".join(f"{ref} → {value}" for ref, value in values.items())
            say(f"     {field_name}: {listed}")
    lucid.features.apply(
        load_definitions(CANONICAL_DEFINITIONS),
        actor="dana",
        rationale="one canonical activity for every team",
    )
    reference = "customer_activity_30d@1.0.0"
    say(
        f"   proposed {reference} (purchases ×0.7 + logins ×0.3, each capped; bots and "
        "test transactions excluded)"
    )
    try:
        lucid.features.approve(reference, team="marketing", person="dana", rationale="mine")
    except LucidError as refusal:
        say(f"   refused: {refusal.sentence}")
    for team, person in TEAMS.items():
        lucid.features.approve(reference, team=team, person=person, rationale="reviewed")
    say(f"   approved by {', '.join(TEAMS)}: canonical for customer_activity")
    for governed in lucid.features.definitions():
        if governed.status is Status.LEGACY:
            lucid.features.deprecate(
                str(governed.definition.ref), actor="dana", rationale=f"replaced by {reference}"
            )
    result.contradictions_after = lucid.features.audit().contradictory_definitions
    say(f"   legacy definitions retired — audit: {result.contradictions_after} contradictions")
    definition = lucid.features.get(reference).definition
    spine = [(f"c{number:05d}", end) for number in range(5)]
    computed = lucid.engine.compute(definition, lucid.features.sources(), spine)
    shown = ", ".join(f"{entity}={computed[(entity, end)]:.3f}" for entity, _ in spine)
    say(f"   customer_activity_30d at {end:%Y-%m-%d}: {shown}")
    card = lucid.loop.scorecard().to_dict()
    measured = ", ".join(f"{key}={value}" for key, value in card.items() if value is not None)
    say(
        f"7. Scorecard measured from the stores and the log: {measured} (the other keys need "
        "incidents and models: `lucid demo` lives the churn scenario that brings them)"
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
