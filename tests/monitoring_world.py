"""Shared pieces of the monitoring tests: a deterministic prediction world, loopback alert
receivers (a real HTTP server and a real SMTP server), and a clock."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import numpy as np

from lucid.monitoring.monitor import Monitoring
from lucid.storage.alerts import SqlAlertStore
from lucid.storage.database import Database
from lucid.storage.digests import SqlDigestStore
from lucid.storage.event_log import SqlEventLog
from lucid.storage.monitoring import SqlMonitoringStore
from lucid.storage.prediction_log import SqlPredictionLog
from lucid.storage.unit_of_work import SqlUnitsOfWork

if TYPE_CHECKING:
    from lucid.ports import ComputeEngine
    from lucid.registry.model_registry import ModelRegistry

DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY2 + timedelta(days=1)


def monitoring_for(
    db: Database,
    events: SqlEventLog,
    engine_factory: Callable[[], ComputeEngine],
    registry_factory: Callable[[], ModelRegistry],
    **settings: Any,
) -> Monitoring:
    """`Monitoring` on `db` and `events`, with the adapters `bootstrap` gives it."""
    return Monitoring(
        uows=SqlUnitsOfWork(db, events),
        log=SqlPredictionLog(db),
        store=SqlMonitoringStore(db),
        alert_store=SqlAlertStore(db),
        digest_store=SqlDigestStore(db, events),
        session_lock=db.session_lock,
        engine_factory=engine_factory,
        registry_factory=registry_factory,
        **settings,
    )


def prediction_rows(
    start: datetime,
    n: int,
    *,
    seed: int,
    tenure_shift_sd: float = 0.0,
    flip_labels: float = 0.0,
    prefix: str = "p",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` predictions served over one day from `start`, and their outcomes.

    tenure ~ N(12, 3) (shifted by `tenure_shift_sd` standard deviations), activity ~ N(20, 5),
    plan in {basic, pro}; the score depends on activity only, so a tenure shift is pure data
    drift. Labels are drawn from the score (calibrated); `flip_labels` of them are flipped
    (concept drift).
    """
    rng = np.random.default_rng(seed)
    tenure = rng.normal(12 + 3 * tenure_shift_sd, 3, n)
    activity = rng.normal(20, 5, n)
    plan = rng.choice(["basic", "pro"], n, p=[0.7, 0.3])
    score = 1 / (1 + np.exp(-(activity - 20) / 2.5))
    label = (rng.random(n) < score).astype(int)
    flip = rng.random(n) < flip_labels
    label = np.where(flip, 1 - label, label)
    step = timedelta(days=1) / n
    predictions, outcomes = [], []
    for i in range(n):
        served = start + step * i
        predictions.append(
            {
                "id": f"{prefix}{seed}-{i}",
                "entity": f"c{i}",
                "served_at": served,
                "features": {
                    "tenure": float(tenure[i]),
                    "activity": float(activity[i]),
                    "plan": str(plan[i]),
                },
                "score": float(score[i]),
            }
        )
        outcomes.append(
            {
                "prediction_id": f"{prefix}{seed}-{i}",
                "label": int(label[i]),
                "observed_at": served + timedelta(hours=1),
            }
        )
    return predictions, outcomes


class Clock:
    """A settable clock; `sleeps` records the waits asked by retries (seconds)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@dataclass
class HttpReceiver:
    """A real HTTP server on loopback: records every POST; paths starting /fail answer 500."""

    url: str
    received: list[tuple[str, Any]] = field(default_factory=list)


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    box: list[tuple[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box.append((self.path, json.loads(body)))
            status = 500 if self.path.startswith("/fail") else 202
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        receiver = HttpReceiver(f"http://127.0.0.1:{server.server_address[1]}")
        receiver.received = box
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class SmtpReceiver:
    host: str
    port: int
    messages: list[Any]


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A real SMTP server (aiosmtpd) on loopback, keeping every message it accepts."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    messages: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            messages.append(message)

    with socket.socket() as probe:  # a free loopback port (aiosmtpd needs a fixed one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpReceiver("127.0.0.1", controller.port, messages)
    finally:
        controller.stop()


def adopt_churn_policy(monitoring: Monitoring, model: str = "churn") -> None:
    """Store the seed's churn policy (the template) for `model`: a model is never given it
    by default, so the tests that grade its checks adopt it explicitly."""
    from lucid.contracts.validity import MonitoringPolicy

    if monitoring.models() and model in monitoring.models():
        return
    monitoring.set_policy(
        MonitoringPolicy.churn_default(model), actor="ana", rationale="the seed's churn policy"
    )
