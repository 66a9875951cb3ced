"""A served project for the HTTP tests: approved features materialised online, a production
churn model, a monitoring run with its alert, a business observation and its evaluation, an
A/B experiment, and a token per role; and the real `lucid serve` on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import httpx
from sklearn.linear_model import LogisticRegression

from lucid.bootstrap import open_project
from lucid.contracts.value import Override
from lucid.features.definition_files import load_definitions
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity
from lucid.storage import schema
from lucid.storage.database import Database
from tests.conftest import run_lucid
from tests.contract.test_feature_governance import as_set
from tests.contract.test_registry import prove, retention
from tests.monitoring_world import DAY1, DAY2, DAY3, Clock, adopt_churn_policy, prediction_rows

V1, SPEND = "customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0"
ROLES = (
    ("viewer", "vic", "viewer", []),
    ("scientist", "sam", "scientist", []),
    ("approver", "mia", "approver", ["marketing"]),
    ("admin", "ada", "admin", []),
    ("service", "checkout", "service", []),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_customers(folder: Path, customers: int = 200) -> None:
    """`data/customers.parquet`, the listing of the sample world's customers c00000 …"""
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE c AS SELECT i AS customer_id, ?::TIMESTAMP AS signed_up_at "
        "FROM unnest(?::VARCHAR[]) t(i)",
        [datetime(2025, 1, 1), [f"c{number:05d}" for number in range(customers)]],
    )
    connection.execute(f"COPY c TO '{folder / 'data' / 'customers.parquet'}' (FORMAT parquet)")
    connection.close()


LISTING = {
    "name": "customers",
    "kind": "parquet",
    "location": "data/customers.parquet",
    "entity": "customer",
    "entity_key": "customer_id",
    "event_time": "signed_up_at",
    "lists_entities": True,
    "schema": {"customer_id": "string", "signed_up_at": "timestamp"},
}


def build_project(
    folder: Path, *, monitored: bool = True, database_url: str | None = None
) -> dict[str, str]:
    """Make the project in `folder` (its metadata at `database_url`, else SQLite); the
    secrets of one token per role, by role name."""
    assert run_lucid("init", str(folder)).code == 0
    config = (folder / "lucid.yaml").read_text() + "approvers: [bea]\n"
    if database_url is not None:
        config = "".join(
            f"database_url: {database_url}\n" if line.startswith("database_url:") else line
            for line in config.splitlines(keepends=True)
        )
        db = Database(database_url)
        schema.upgrade(db)
        db.dispose()
    (folder / "lucid.yaml").write_text(config)
    write_sample_activity(folder)
    write_customers(folder)
    with open_project(folder, environ={}) as lucid:
        lucid.features.apply(load_definitions(CANONICAL_DEFINITIONS), actor="dana", rationale="r")
        lucid.features.apply(load_definitions(SPEND_DEFINITIONS), actor="dana", rationale="r")
        lucid.features.apply(as_set({"sources": [LISTING]}), actor="dana", rationale="r")
        for ref in (V1, SPEND):
            for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "pm")):
                lucid.features.approve(ref, team=team, person=person, rationale="ok")
        for number, rows in enumerate(([[0.0, 0.0], [0.9, 80.0]], [[0.1, 0.0], [0.8, 70.0]])):
            lucid.registry.register_model(
                "churn",
                artifact=SklearnArtifact(estimator=LogisticRegression().fit(rows, [1, 0])),
                impact=retention(),
                features=[V1, SPEND],
                training_data=f"sha256:{number}",
                offline_metrics={"auc": 0.8 + number / 100},
                registered_by="ana",
                rationale="monthly retrain",
            )
        prove(lucid.registry, 1)
        lucid.registry.promote("churn", 1, "challenger", actor="ana", rationale="A/B")
        lucid.registry.promote(
            "churn",
            1,
            "production",
            actor="ana",
            rationale="first",
            override=Override("bea", "first version: nothing serves production to test against"),
        )
        lucid.features.materialize()  # at the real time: served values are fresh
        if monitored:
            lucid.registry.observe(
                "churn", 1, metric="retention_rate", value=0.81, period="2026-10", actor="bi"
            )
            lucid.registry.evaluate("churn", actor="bi")
            lucid.registry.promote("churn", 2, "challenger", actor="ana", rationale="A/B")
            lucid.experiments.create(
                "churn-ab",
                model="churn",
                challenger=2,
                minimum_detectable_effect=0.05,
                actor="ana",
                rationale="does v2 keep more customers?",
            )
        tokens = lucid.tokens
        secrets = {
            name: tokens.create(
                person=person, role=role, teams=teams, actor="admin", rationale="test"
            )[1]
            for name, person, role, teams in ROLES
        }
    if monitored:
        with open_project(folder, environ={}) as lucid:
            clock = Clock(DAY2 + timedelta(hours=2))  # the days the predictions span
            lucid.clock = clock
            reference, _ = prediction_rows(DAY1, 600, seed=1)
            current, _ = prediction_rows(DAY2, 600, seed=2, tenure_shift_sd=0.6)
            lucid.monitoring.log_predictions("churn", 1, reference + current)
            lucid.monitoring.build_profile("churn", 1, start=DAY1, end=DAY2)
            adopt_churn_policy(lucid.monitoring)
            lucid.monitoring.run("churn", start=DAY1, end=DAY2)  # the reference: ok
            clock.now = DAY3 + timedelta(hours=2)
            lucid.monitoring.run("churn", start=DAY2, end=DAY3)  # tenure shifted: alerts
    return secrets


@contextmanager
def served(
    folder: Path, *, workers: int = 1, environ: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`lucid serve` on a free loopback port until the block ends: (base URL, the process)."""
    port = free_port()
    log = (folder / "serve.log").open("wb")  # a file, not a pipe: a full pipe would block
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lucid",
            "--project",
            str(folder),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **(environ or {})},
        stdout=log,  # what `lucid serve` says on start, then the workers' warnings and errors
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"the server did not start: {server_log(folder)}")
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()


def server_log(folder: Path) -> str:
    """What the server wrote: its start-up lines, then its standard error (tracebacks of 5xx
    answers included)."""
    return (folder / "serve.log").read_text(errors="replace")
