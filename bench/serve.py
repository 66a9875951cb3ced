"""Predictions over HTTP: `POST /v1/predict/churn` against `lucid serve` on loopback.

Builds a scratch project (the sample activity of `--entities` customers, the canonical
features approved and materialised online, a production churn model, a viewer token), starts
`lucid serve --workers N` and, for each online store (SQLite, then Redis), drives it open-loop
at increasing target rates for `--duration` seconds per step. Per step it prints the target
rate, the achieved throughput (answers with status 200 per second), p50/p99 latency
(measured from the moment each request was *due*, so a server that falls behind shows it)
and the error count (non-200 answers, broken connections, requests still unanswered 10 s
after the step).

The floor, measured in the same run: `bench/serve_floor.py`, a bare ASGI app under uvicorn
with the same flags and workers, doing a prediction's work and nothing else (the bearer
token compared, the same online store read on the bare driver, the same scikit-learn model,
a prediction row and the served values committed to SQLite before the answer). Each step of
the scikit-learn model runs on the floor first, then on Lucid, and a third line gives Lucid's
p50, p99 and server CPU as multiples of the floor's (`--no-floor` leaves it out). The load
average is printed beside the figures: the machine may be shared. On a shared machine one
pair of steps measures the neighbours' load as much as the servers: `--floor-rounds N`
runs the floor's step then Lucid's N times at 1,000/s, and the goal at that rate is judged
on the median of the N ratios, each round's printed. `--goal-rounds N` runs the steps at
2,000/s N times the same way, each round printed; the goal at that rate is judged on every
answer of the N rounds together (their p99, the rate achieved over their seconds, no error
in any of them).

The load generator is a raw asyncio HTTP/1.1 client on keep-alive connections in this
process; it shares the machine's cores with the server. With `--baseline-duration` > 0 the
same steps against `GET /healthz` (no database, no model) come first. Each line shows the CPU
the generator and the server used (in cores).
Goals on a 2-core machine (issue 26): 2,000 predictions/s at p99 under 20 ms with no error,
on SQLite and on Redis, every prediction logged; at 1,000/s, p99 within 2x the floor's.

`--malformed` adds, after the clean steps, the same steps with 1 % of the requests malformed
(a NUL byte in the entity id, a body over the 64 KiB limit, broken JSON, an unknown field,
in turn): each such line shows the p99 of the valid requests, how many valid requests failed
(the goal: none) and how many malformed ones were refused with 413/422 as they should be.

    uv run python bench/serve.py [--rates 1000,2000] [--duration 30] [--no-floor]
        [--entities 10000] [--workers 2] [--connections 64] [--stores sqlite,redis]
        [--redis-url redis://127.0.0.1:6379/0] [--baseline-duration 0] [--malformed]
        [--shadow] [--flavours sklearn,onnx,xgboost,lightgbm,mlflow] [--batch-duration S]
        [--batch-connections 4] [--floor-seconds 1] [--floor-rounds 1] [--goal-rounds 1]

`--shadow` runs the same steps while a challenger scores every request in production's
shadow (a second model call and a shadow score in the same commit).

`--flavours sklearn,onnx,xgboost,lightgbm,mlflow` registers one production model per flavour,
each fitted on the same training data and pinning the same features (`churn` is the
scikit-learn one, the others `churn-<flavour>`), and runs, per flavour and store: the
single-entity steps above; `--batch-duration` seconds of 100-entity requests on
`--batch-connections` connections, each sent when the last was answered (rows/s, p50/p99 per
request); and, first, the floor: the same model call in this process through the native
library (one row, then 100 rows, built from Python lists as a request's values arrive: its
fastest call on one thread, `inplace_predict` for XGBoost), and through Lucid's runner, as
time per call and rows/s. A flavour Lucid cannot load yet prints
"not served yet" and the bench goes on. A table at the end gives one line per flavour and
store with its verdict against the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np
import pandas as pd
from serve_floor import CONFIG_ENV
from servers import free_port, start_server, started, tree_cpu_seconds
from sklearn.linear_model import LogisticRegression

from lucid.bootstrap import open_project
from lucid.contracts.value import BusinessImpact, Override
from lucid.features.definition_files import load_definitions
from lucid.project import init_project
from lucid.registry.model_artifacts import (
    Artifact,
    LightgbmArtifact,
    MlflowArtifact,
    OnnxArtifact,
    SklearnArtifact,
    XgboostArtifact,
)
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity

FEATURES = ("customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0")
GOAL_RATE, GOAL_P99_MS = 2000, 20.0
FLOOR_RATE, FLOOR_RATIO = 1000, 2.0
"""At `FLOOR_RATE`/s Lucid's p99 is within `FLOOR_RATIO` times the floor's, in the same run."""
LATE_AFTER_S = 10.0
"""A request still unanswered this long after its step ended is counted as an error."""
MALFORMED_SHARE = 0.01
"""The share of malformed requests `--malformed` mixes into the load."""
COLUMNS = ["customer_activity_30d", "customer_spend_30d"]
BATCH_ROWS = 100
FLAVOUR_NAMES = ("sklearn", "onnx", "xgboost", "lightgbm", "mlflow")

NativeCall = Callable[[list[list[float]]], Any]
"""The native library's call on rows given as Python lists, in the order of `COLUMNS`."""


def model_name(flavour: str) -> str:
    return "churn" if flavour == "sklearn" else f"churn-{flavour}"


def training_set() -> tuple[np.ndarray, np.ndarray]:
    """The training data every flavour is fitted on: 2,000 rows in the features' ranges."""
    rng = np.random.default_rng(24)
    matrix = np.column_stack([rng.uniform(0, 1, 2000), rng.uniform(0, 150, 2000)])
    churned = 2.0 - 3.0 * matrix[:, 0] - matrix[:, 1] / 40 + rng.normal(0, 0.7, 2000) > 0
    return matrix, churned.astype(int)


def flavour_model(flavour: str, folder: Path) -> tuple[Artifact, NativeCall]:
    """The churn model as `flavour` (its files under `folder`) and its native call: a
    logistic regression for scikit-learn, ONNX (skl2onnx's conversion) and MLflow (its
    column signature), 50 trees of depth 4 for XGBoost and LightGBM."""
    matrix, labels = training_set()
    frame = pd.DataFrame(matrix, columns=COLUMNS)
    folder.mkdir(parents=True, exist_ok=True)
    model = LogisticRegression().fit(frame, labels)
    if flavour == "sklearn":
        # Fitted on the bare array, so rows are given as they are, not as a table.
        bare = LogisticRegression().fit(matrix, labels)
        return SklearnArtifact(estimator=bare), bare.predict_proba
    if flavour == "onnx":
        import onnxruntime
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        converted = convert_sklearn(
            model,
            initial_types=[("input", FloatTensorType([None, len(COLUMNS)]))],
            options={id(model): {"zipmap": False}},
        )
        path = folder / "model.onnx"
        path.write_bytes(converted.SerializeToString())
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(path), options, ["CPUExecutionProvider"])
        return OnnxArtifact(path), lambda rows: session.run(
            None, {"input": np.asarray(rows, dtype=np.float32)}
        )
    if flavour == "xgboost":
        import xgboost

        booster = xgboost.train(
            {"objective": "binary:logistic", "max_depth": 4, "nthread": 1},
            xgboost.DMatrix(matrix, label=labels, feature_names=COLUMNS),
            num_boost_round=50,
        )
        path = folder / "model.json"
        booster.save_model(path)
        booster.set_param({"nthread": 1})  # a serving worker has one core: no thread pool
        return XgboostArtifact(path), lambda rows: booster.inplace_predict(
            np.asarray(rows, dtype=float)
        )
    if flavour == "lightgbm":
        import lightgbm

        params = {"objective": "binary", "max_depth": 4, "verbose": -1, "num_threads": 1}
        trees = lightgbm.train(
            params, lightgbm.Dataset(matrix, labels, feature_name=COLUMNS), num_boost_round=50
        )
        path = folder / "model.txt"
        trees.save_model(path)
        return LightgbmArtifact(path), lambda rows: trees.predict(
            np.asarray(rows, dtype=float), num_threads=1
        )
    if flavour == "mlflow":
        import mlflow.pyfunc
        import mlflow.sklearn
        from mlflow.models import infer_signature

        path = folder / "mlflow-model"
        mlflow.sklearn.save_model(
            model,
            path,
            signature=infer_signature(frame[:5], model.predict_proba(frame[:5])),
            pyfunc_predict_fn="predict_proba",
            pip_requirements=["scikit-learn"],  # not inferred from the environment
        )
        pyfunc = mlflow.pyfunc.load_model(str(path))
        return MlflowArtifact(path), lambda rows: pyfunc.predict(
            pd.DataFrame(rows, columns=COLUMNS)
        )
    raise SystemExit(f"--flavours: {flavour} is not one of {', '.join(FLAVOUR_NAMES)}")


@dataclass
class Served:
    """A flavour in the bench: its native call, and why Lucid does not serve it (None: it
    does)."""

    native: NativeCall
    missing: str | None = None
    runner: Callable[[list[dict[str, float]]], Any] | None = None


def build_project(
    folder: Path,
    entities: int,
    online_store_url: str | None,
    shadow: bool = False,
    flavours: tuple[str, ...] = ("sklearn",),
) -> tuple[str, dict[str, Served]]:
    """The scratch project in `folder`; returns a service token's secret (an application's:
    predictions are logged, which a viewer may not do) and each flavour as served. With
    `shadow`, a second scikit-learn version at the challenger stage scores every production
    request of `churn` in a running shadow comparison."""
    init_project(folder, name=f"bench_{uuid.uuid4().hex[:8]}", actor="bench", environ={}).close()
    config = folder / "lucid.yaml"
    text = config.read_text() + "approvers: [bea]\n"
    if "mlflow" in flavours:
        text += "allow_pickle: true\n"  # an MLflow model is served only where pickles are
    if online_store_url is not None:
        text = "\n".join(
            f"online_store_url: {online_store_url}"
            if line.startswith("online_store_url:")
            else line
            for line in text.splitlines()
        )
    config.write_text(text + "\n")
    write_sample_activity(folder, customers=entities, days=45)
    served: dict[str, Served] = {}
    with open_project(folder, environ={}) as lucid:
        for path in (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS):
            lucid.features.apply(load_definitions(path), actor="dana", rationale="bench")
        for ref in FEATURES:
            for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "pm")):
                lucid.features.approve(ref, team=team, person=person, rationale="bench")
        impact = BusinessImpact(
            metric="retention_rate",
            direction="higher",
            baseline=0.80,
            target=0.82,
            measurement_period="30d",
            rollback_threshold=0.78,
            rationale="keep more customers",
        )
        override = Override("bea", "bench: no A/B test needed")
        for flavour in flavours:
            artifact, native = flavour_model(flavour, folder / "models" / flavour)
            name = model_name(flavour)
            try:
                lucid.registry.register_model(
                    name,
                    artifact=artifact,
                    impact=impact,
                    features=list(FEATURES),
                    training_data="sha256:bench",
                    offline_metrics={"auc": 0.8},
                    registered_by="ana",
                    rationale=f"bench model ({flavour})",
                )
                # A version no worker can load is not promoted: it would fail every request.
                loaded = lucid.registry.load_model(name, version=1)
            except Exception as error:  # a flavour not built yet, or its library missing
                served[flavour] = Served(native, f"{type(error).__name__}: {error}"[:160])
                continue
            for stage in ("challenger", "production"):
                lucid.registry.promote(
                    name, 1, stage, actor="bea", rationale="bench", override=override
                )
            served[flavour] = Served(native, runner=loaded.predict_scored)
        if shadow:
            lucid.registry.register_model(
                "churn",
                artifact=SklearnArtifact(
                    estimator=LogisticRegression(C=0.5).fit(
                        [[0.0, 0.0], [0.9, 80.0], [0.2, 5.0], [0.7, 60.0]], [1, 0, 1, 0]
                    )
                ),
                impact=lucid.registry.get_version("churn", 1).impact,
                features=list(FEATURES),
                training_data="sha256:bench-2",
                offline_metrics={"auc": 0.81},
                registered_by="ana",
                rationale="bench challenger",
            )
            lucid.registry.promote("churn", 2, "challenger", actor="bea", rationale="bench")
            lucid.shadow.start(
                "bench-shadow", model="churn", challenger=2, actor="bea", rationale="bench"
            )
        lucid.features.materialize()
        token = lucid.tokens.create(
            person="app", role="service", teams=[], actor="bench", rationale="bench"
        )[1]
    return token, served


def floor_config(folder: Path, token: str) -> dict[str, Any]:
    """What the floor app (`bench/serve_floor.py`) serves: the scikit-learn model of `churn`
    (the same fit), the project's online store, and a log of its own."""
    matrix, labels = training_set()
    model = folder / "floor-model.pkl"
    model.write_bytes(pickle.dumps(LogisticRegression().fit(matrix, labels)))
    with open_project(folder, environ={}) as lucid:
        url, namespace = lucid.settings.online_store_url, lucid.settings.name
        features = [str(lucid.features.get(ref).definition.ref) for ref in FEATURES]
    config: dict[str, Any] = {
        "token": token,
        "features": features,
        "model": str(model),
        "log": str(folder / "floor-log.db"),
    }
    if url.startswith("sqlite:///"):
        config["sqlite"] = url.removeprefix("sqlite:///")
    else:
        parsed = urlparse(url)
        config["redis"] = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 6379,
            "db": int(parsed.path.strip("/") or 0),
            "prefix": f"lucid:{namespace}:",
        }
    return config


def start_floor(folder: Path, port: int, workers: int, token: str) -> subprocess.Popen[bytes]:
    """The floor app under uvicorn with `lucid serve`'s flags."""
    environ = {**os.environ, CONFIG_ENV: json.dumps(floor_config(folder, token))}
    command = [sys.executable, "-m", "uvicorn", "--factory", "serve_floor:app", "--app-dir"]
    command += [str(Path(__file__).parent), "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=(folder / "floor.log").open("wb"), env=environ
    )
    return started(process, port, folder / "floor.log")


class Connection:
    """One keep-alive HTTP/1.1 connection; answers must carry a Content-Length. An answer
    saying `Connection: close` (a refused oversized body) closes it; the next request opens
    another."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length, closing = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            lowered = line.lower()
            if lowered.startswith(b"content-length:"):
                length = int(line[15:])
            elif lowered.startswith(b"connection:") and b"close" in lowered:
                closing = True
        await self.reader.readexactly(length)
        if closing:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass(frozen=True)
class Request:
    """A request's bytes, and whether it is well formed (else it must be refused)."""

    raw: bytes
    valid: bool = True


@dataclass
class Step:
    target: int
    sent: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    client_cores: float
    server_cores: float
    malformed: int = 0
    refused: int = 0
    """Malformed requests sent, and those refused with 413 or 422 (the rest: errors)."""

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return (
            ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")
        )

    def line(self, label: str) -> str:
        bad = f"  malformed refused {self.refused}/{self.malformed}" if self.malformed else ""
        return (
            f"{label:20} target {self.target:5}/s  achieved {self.ok / self.seconds:7.1f}/s  "
            f"p50 {self.percentile(0.50):7.2f} ms  p99 {self.percentile(0.99):7.2f} ms  "
            f"valid failed {self.errors:5}{bad}  cpu: generator {self.client_cores:.2f}, "
            f"server {self.server_cores:.2f} cores"
        )

    def batch_line(self, label: str, rows: int) -> str:
        per_second = self.ok / self.seconds
        return (
            f"{label:20} {per_second:7.1f} requests/s = {per_second * rows:9,.0f} rows/s  "
            f"p50 {self.percentile(0.50):7.2f} ms  p99 {self.percentile(0.99):7.2f} ms per "
            f"request  failed {self.errors:5}  cpu: generator {self.client_cores:.2f}, "
            f"server {self.server_cores:.2f} cores"
        )

    def against(self, floor: Step) -> str:
        """Lucid's p50, p99 and CPU as multiples of the floor's in the same step."""
        return (
            f"p50 {self.percentile(0.5) / floor.percentile(0.5):5.2f}x  "
            f"p99 {self.percentile(0.99) / floor.percentile(0.99):5.2f}x  "
            f"server cpu {self.server_cores / max(floor.server_cores, 1e-9):5.2f}x "
            f"({floor.server_cores:.2f} cores for the floor)"
        )

    @staticmethod
    def pooled(steps: list[Step]) -> Step:
        """Every answer of `steps` (rounds of one target rate) as one step."""
        seconds = sum(step.seconds for step in steps)
        return Step(
            target=steps[0].target,
            sent=sum(step.sent for step in steps),
            ok=sum(step.ok for step in steps),
            errors=sum(step.errors for step in steps),
            seconds=seconds,
            latencies_ms=[latency for step in steps for latency in step.latencies_ms],
            client_cores=sum(step.client_cores * step.seconds for step in steps) / seconds,
            server_cores=sum(step.server_cores * step.seconds for step in steps) / seconds,
            malformed=sum(step.malformed for step in steps),
            refused=sum(step.refused for step in steps),
        )

    def met(self) -> bool:
        """The goal: the rate achieved (for the valid requests), p99 under the bound, no valid
        request failing, every malformed one refused."""
        valid_rate = self.target * (1 - self.malformed / self.sent if self.sent else 1)
        return (
            self.ok / self.seconds >= valid_rate * 0.99
            and self.percentile(0.99) < GOAL_P99_MS
            and self.errors == 0
            and self.refused == self.malformed
        )


async def drive(
    port: int, requests: list[Request], rate: int, duration: float, connections: int, server: int
) -> Step:
    """Send `rate` requests per second for `duration` s, open-loop, over `connections`.
    Latencies are those of the valid requests answered 200."""
    loop = asyncio.get_running_loop()
    total = int(rate * duration)
    queue: asyncio.Queue[tuple[float, Request] | None] = asyncio.Queue()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0, "malformed": 0, "refused": 0}
    pool = [Connection(port) for _ in range(connections)]

    async def worker(connection: Connection) -> None:
        while (job := await queue.get()) is not None:
            due, request = job
            counts["malformed"] += not request.valid
            try:
                status = await connection.send(request.raw)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                connection.close()
                counts["errors"] += request.valid  # a malformed one lost is not refused
                continue
            if not request.valid:
                counts["refused"] += status in (413, 422)
            elif status == 200:
                counts["ok"] += 1
                latencies.append((loop.time() - due) * 1000)
            else:
                counts["errors"] += 1

    cpu_client, cpu_server = time.process_time(), tree_cpu_seconds(server)
    workers = [asyncio.create_task(worker(c)) for c in pool]
    start = loop.time() + 0.01
    sent = 0
    while sent < total:
        due_now = min(total, int((loop.time() - start) * rate) + 1)
        while sent < due_now:
            queue.put_nowait((start + sent / rate, requests[sent % len(requests)]))
            sent += 1
        await asyncio.sleep(0.0005)
    for _ in pool:
        queue.put_nowait(None)
    _, late = await asyncio.wait(workers, timeout=LATE_AFTER_S)
    for task in late:
        task.cancel()
    unanswered = queue.qsize() + len(late)
    elapsed = loop.time() - start
    for connection in pool:
        connection.close()
    return Step(
        rate,
        sent,
        counts["ok"],
        counts["errors"] + unanswered,
        min(elapsed, duration + LATE_AFTER_S),
        latencies,
        (time.process_time() - cpu_client) / elapsed,
        (tree_cpu_seconds(server) - cpu_server) / elapsed,
        counts["malformed"],
        counts["refused"],
    )


async def saturate(
    port: int, requests: list[Request], duration: float, connections: int, server: int
) -> Step:
    """Closed loop: each of `connections` sends its next request as soon as the last is
    answered, for `duration` s. Latencies run from each request's sending to its answer."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "errors": 0}
    deadline = loop.time() + duration

    async def worker(connection: Connection, number: int) -> None:
        while loop.time() < deadline:
            request = requests[number % len(requests)]
            number += connections
            counts["sent"] += 1
            began = loop.time()
            try:
                status = await connection.send(request.raw)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                connection.close()
                counts["errors"] += 1
                continue
            if status == 200:
                counts["ok"] += 1
                latencies.append((loop.time() - began) * 1000)
            else:
                counts["errors"] += 1

    pool = [Connection(port) for _ in range(connections)]
    cpu_client, cpu_server = time.process_time(), tree_cpu_seconds(server)
    start = loop.time()
    workers = [asyncio.create_task(worker(c, n)) for n, c in enumerate(pool)]
    _, late = await asyncio.wait(workers, timeout=duration + LATE_AFTER_S)
    for task in late:
        task.cancel()
    elapsed = loop.time() - start
    for connection in pool:
        connection.close()
    return Step(
        0,
        counts["sent"],
        counts["ok"],
        counts["errors"] + len(late),
        min(elapsed, duration + LATE_AFTER_S),
        latencies,
        (time.process_time() - cpu_client) / elapsed,
        (tree_cpu_seconds(server) - cpu_server) / elapsed,
    )


@dataclass
class Floor:
    """Seconds per call of one row and of `BATCH_ROWS` rows."""

    one: float
    batch: float

    def text(self) -> str:
        return (
            f"1 row {self.one * 1e6:7.0f} µs/call ({1 / self.one:9,.0f} rows/s); "
            f"{BATCH_ROWS} rows {self.batch * 1e6:7.0f} µs/call "
            f"({BATCH_ROWS / self.batch:11,.0f} rows/s)"
        )


def timed(call: Callable[[], Any], budget: float) -> float:
    """Seconds per call of `call`, repeated for about `budget` s (at least 20 times) after
    one call unmeasured."""
    call()
    calls, started = 0, time.perf_counter()
    while calls < 20 or time.perf_counter() - started < budget:
        call()
        calls += 1
    return (time.perf_counter() - started) / calls


def floor(call: Callable[[list[list[float]]], Any], budget: float) -> Floor:
    """`call` on one row and on `BATCH_ROWS` rows of the training data, as Python lists."""
    rows = training_set()[0][:BATCH_ROWS].tolist()
    return Floor(timed(lambda: call(rows[:1]), budget), timed(lambda: call(rows), budget))


def by_name(rows: list[list[float]]) -> list[dict[str, float]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def _post(token: str, body: bytes, model: str = "churn") -> bytes:
    return (
        f"POST /v1/predict/{model} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def predict_requests(
    token: str, entities: int, malformed: float = 0.0, model: str = "churn"
) -> list[Request]:
    """5,000 predictions of random entities; with `malformed`, that share of them broken in
    turn: a NUL byte in the id, a body over the limit, broken JSON, an unknown field."""
    rng = random.Random(7)
    broken: list[Callable[[str], bytes]] = [
        lambda entity: json.dumps({"entity_id": f"{entity}\u0000"}).encode(),
        lambda entity: json.dumps({"entity_id": entity, "pad": "x" * 1_100_000}).encode(),
        lambda entity: b'{"entity_id": "' + entity.encode(),
        lambda entity: json.dumps({"entity_id": entity, "levle": "critical"}).encode(),
    ]
    built, every = [], round(1 / malformed) if malformed else 0
    for number in range(5000):
        entity = f"c{rng.randrange(entities):05d}"
        if every and number % every == every - 1:
            body = broken[number // every % len(broken)](entity)
            built.append(Request(_post(token, body, model), valid=False))
        else:
            body = json.dumps({"entity_id": entity}).encode()
            built.append(Request(_post(token, body, model)))
    return built


def batch_body(entities: int, rng: random.Random) -> dict[str, Any]:
    chosen = [f"c{rng.randrange(entities):05d}" for _ in range(BATCH_ROWS)]
    return {"entities": [{"entity_id": entity} for entity in chosen]}


def batch_requests(token: str, entities: int, model: str) -> list[Request]:
    """200 requests of `BATCH_ROWS` random entities each."""
    rng = random.Random(11)
    return [
        Request(_post(token, json.dumps(batch_body(entities, rng)).encode(), model))
        for _ in range(200)
    ]


@dataclass
class Outcome:
    """One flavour on one store: what the summary table shows."""

    flavour: str
    store: str
    floor: Floor | None = None
    runner: Floor | None = None
    single: Step | None = None
    batch: Step | None = None
    missing: str | None = None
    notes: list[str] = field(default_factory=list)
    at_floor_rate: list[tuple[Step, Step]] = field(default_factory=list)
    """Lucid's step and the floor's at `FLOOR_RATE`/s in each round, when the floor ran."""

    def floor_ratio(self) -> float:
        """Lucid's p99 over the floor's at `FLOOR_RATE`/s: the median of the rounds."""
        return statistics.median(
            lucid.percentile(0.99) / floor.percentile(0.99) for lucid, floor in self.at_floor_rate
        )

    def within_floor(self) -> bool:
        """The goal at `FLOOR_RATE`: no valid request failing in any round, p99 within
        `FLOOR_RATIO` times the floor's (the median of the rounds)."""
        failed = any(lucid.errors for lucid, _ in self.at_floor_rate)
        return not failed and self.floor_ratio() <= FLOOR_RATIO

    def verdict(self) -> str:
        if self.missing is not None:
            return "not served yet"
        if self.single is None:
            return f"not measured (no step at {GOAL_RATE:,}/s)"
        verdict = "met" if self.single.met() else "MISSED"
        if self.at_floor_rate:
            within = "met" if self.within_floor() else "MISSED"
            verdict += (
                f"; at {FLOOR_RATE:,}/s p99 {self.floor_ratio():.2f}x the floor's "
                f"({self.floor_rounds()}): {within}"
            )
        return verdict

    def floor_rounds(self) -> str:
        rounds = len(self.at_floor_rate)
        return "one round" if rounds == 1 else f"median of {rounds} rounds"

    def row(self) -> str:
        def ms(step: Step | None) -> str:
            return f"{step.percentile(0.99):6.2f}" if step is not None else f"{'-':>6}"

        single = f"{self.single.ok / self.single.seconds:7.1f}" if self.single else f"{'-':>7}"
        batch = (
            f"{self.batch.ok / self.batch.seconds * BATCH_ROWS:8,.0f}"
            if self.batch
            else f"{'-':>8}"
        )
        floors = [
            f"{found.one * 1e6:8.0f} {BATCH_ROWS / found.batch:10,.0f}"
            if found
            else f"{'-':>8} {'-':>10}"
            for found in (self.floor, self.runner)
        ]
        return (
            f"{self.flavour:9} {self.store:7} {single} {ms(self.single)}  {batch} "
            f"{ms(self.batch)}  {floors[0]}  {floors[1]}  {self.verdict()}"
        )


SUMMARY_HEADER = (
    f"{'flavour':9} {'store':7} {'1/s':>7} {'p99 ms':>6}  {'rows/s':>8} {'p99 ms':>6}  "
    f"{'1 row µs':>8} {'rows/s':>10}  {'1 row µs':>8} {'rows/s':>10}  verdict\n"
    f"{'':17} {'single @ goal rate':>14}  {f'batch of {BATCH_ROWS}':>15}  "
    f"{'floor: native call':>18}  {'Lucid runner, in process':>18}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rates", default="1000,2000", help="target rates, per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per step")
    parser.add_argument(
        "--floor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each step of the scikit-learn model on the bare app first (serve_floor.py)",
    )
    parser.add_argument(
        "--baseline-duration", type=float, default=0.0, help="seconds per GET /healthz step"
    )
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--flavours",
        default="sklearn",
        help=f"one production model per flavour, of {','.join(FLAVOUR_NAMES)}",
    )
    parser.add_argument(
        "--batch-duration",
        type=float,
        default=None,
        help=f"seconds of {BATCH_ROWS}-entity requests per flavour (default: --duration)",
    )
    parser.add_argument("--batch-connections", type=int, default=4)
    parser.add_argument(
        "--floor-seconds", type=float, default=1.0, help="seconds per in-process floor figure"
    )
    parser.add_argument(
        "--floor-rounds",
        type=int,
        default=1,
        help=f"rounds of the floor's step then Lucid's at {FLOOR_RATE}/s (the median ratio)",
    )
    parser.add_argument(
        "--goal-rounds",
        type=int,
        default=1,
        help=f"rounds of the steps at {GOAL_RATE}/s (the goal judged on their answers together)",
    )
    parser.add_argument(
        "--shadow",
        action="store_true",
        help="a challenger scores every request of the scikit-learn model in a shadow comparison",
    )
    parser.add_argument(
        "--malformed",
        action="store_true",
        help=f"also run each step with {MALFORMED_SHARE * 100:g}%% malformed requests mixed in",
    )
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    flavours = tuple(name.strip() for name in args.flavours.split(",") if name.strip())
    unknown = [name for name in flavours if name not in FLAVOUR_NAMES]
    if unknown or not flavours:
        parser.error(f"--flavours: each one of {', '.join(FLAVOUR_NAMES)}, not {unknown}")
    if args.shadow and "sklearn" not in flavours:
        parser.error("--shadow runs beside the scikit-learn model: keep sklearn in --flavours")
    batch_duration = args.duration if args.batch_duration is None else args.batch_duration
    print(
        f"{args.entities:,} entities, {args.workers} workers, {args.connections} keep-alive "
        f"connections, {os.cpu_count()} cores; {args.duration:g} s per step; "
        f"flavours {', '.join(flavours)}"
    )
    outcomes: list[Outcome] = []
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="lucid-serve-bench-") as name:
            folder = Path(name) / "project"
            started = time.perf_counter()
            online = None if store == "sqlite" else args.redis_url
            token, served = build_project(folder, args.entities, online, args.shadow, flavours)
            print(
                f"\nonline store {store}: project built in {time.perf_counter() - started:.1f} s; "
                f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}"
            )
            floors = {
                flavour: (
                    floor(found.native, args.floor_seconds),
                    None
                    if found.runner is None
                    else floor(lambda rows, r=found.runner: r(by_name(rows)), args.floor_seconds),
                )
                for flavour, found in served.items()
            }  # measured before the server starts, on a quiet process
            port = free_port()
            server = start_server(folder, port, args.workers)
            bare, floor_port = None, free_port()
            if args.floor and "sklearn" in served and served["sklearn"].missing is None:
                bare = start_floor(folder, floor_port, args.workers, token)
            try:
                health = [Request(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")]
                for rate in rates if args.baseline_duration > 0 else []:
                    step = asyncio.run(
                        drive(
                            port, health, rate, args.baseline_duration, args.connections, server.pid
                        )
                    )
                    print(step.line("GET /healthz"), flush=True)
                for flavour, found in served.items():
                    outcome = Outcome(flavour, store, *floors[flavour], missing=found.missing)
                    outcomes.append(outcome)
                    floor_app = (bare.pid, floor_port) if bare and flavour == "sklearn" else None
                    run_flavour(
                        args, rates, batch_duration, port, server.pid, token, outcome, floor_app
                    )
            finally:
                for process in (server, bare):
                    if process is not None:
                        process.terminate()
                        process.wait(timeout=30)
                if online is not None:
                    with open_project(folder, environ={}) as lucid:
                        lucid.online_store.clear()
    print(
        f"\nper flavour (goal: >= {GOAL_RATE:,}/s at p99 < {GOAL_P99_MS:g} ms, no request "
        f"failing, on {args.workers} workers)\n{SUMMARY_HEADER}"
    )
    for outcome in outcomes:
        print(outcome.row())
    print(f"load average at the end: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


def run_flavour(
    args: argparse.Namespace,
    rates: list[int],
    batch_duration: float,
    port: int,
    server: int,
    token: str,
    outcome: Outcome,
    floor_app: tuple[int, int] | None = None,
) -> None:
    """The floor, the single-entity steps, the batch requests and the verdict of one flavour
    on one store; a flavour Lucid does not serve says why and is left. With `floor_app`
    (its pid and port), each step of the valid requests runs first on the bare app."""
    model = model_name(outcome.flavour)
    print(f"\n{outcome.flavour} ({model}, {outcome.store})", flush=True)
    if outcome.floor is not None:
        print(f"  floor, native call in process:  {outcome.floor.text()}")
    if outcome.runner is not None:
        print(f"  Lucid's runner, in process:     {outcome.runner.text()}")
    if outcome.missing is None:
        check = httpx.post(
            f"http://127.0.0.1:{port}/v1/predict/{model}",
            headers={"Authorization": f"Bearer {token}"},
            json={"entity_id": "c00001"},
            timeout=30,
        )
        if check.status_code != 200:
            outcome.missing = f"{check.status_code}: {check.text[:160]}"
    if outcome.missing is not None:
        print(f"  not served yet ({outcome.missing})", flush=True)
        return
    loads = [("POST /predict", predict_requests(token, args.entities, model=model))]
    if args.malformed:
        mixed = predict_requests(token, args.entities, MALFORMED_SHARE, model)
        loads.append((f"  + {MALFORMED_SHARE:.0%} malformed", mixed))
    for rate in rates:
        rounds = args.floor_rounds if floor_app is not None and rate == FLOOR_RATE else 1
        rounds = args.goal_rounds if rate == GOAL_RATE else rounds
        at_goal: list[Step] = []
        for round_number in range(rounds):  # the malformed steps in the first round only
            bare = None
            if floor_app is not None:
                pid, floor_port = floor_app
                bare = asyncio.run(
                    drive(floor_port, loads[0][1], rate, args.duration, args.connections, pid)
                )
                print(bare.line("floor (bare ASGI)"), flush=True)
            for label, requests in loads if round_number == 0 else loads[:1]:
                step = asyncio.run(
                    drive(port, requests, rate, args.duration, args.connections, server)
                )
                print(step.line(label), flush=True)
                if requests is not loads[0][1]:
                    continue
                if bare is not None:
                    print(f"{'  Lucid / floor':20} {step.against(bare)}", flush=True)
                    if rate == FLOOR_RATE:
                        outcome.at_floor_rate.append((step, bare))
                if rate >= GOAL_RATE:
                    at_goal.append(step)
        if at_goal:
            pooled = Step.pooled(at_goal)
            together = f", {len(at_goal)} rounds together: p99 {pooled.percentile(0.99):.2f} ms"
            print(
                f"goal (>= {GOAL_RATE}/s, p99 < {GOAL_P99_MS:g} ms, no valid request failing) "
                f"at {rate}/s{together if len(at_goal) > 1 else ''}: "
                f"{'met' if pooled.met() else 'MISSED'}",
                flush=True,
            )
            if outcome.single is None:
                outcome.single = pooled
        if rate == FLOOR_RATE and outcome.at_floor_rate:
            print(
                f"goal (p99 within {FLOOR_RATIO:g}x the floor's at {rate}/s, "
                f"{outcome.floor_rounds()}: {outcome.floor_ratio():.2f}x): "
                f"{'met' if outcome.within_floor() else 'MISSED'}",
                flush=True,
            )
    probe = httpx.post(
        f"http://127.0.0.1:{port}/v1/predict/{model}",
        headers={"Authorization": f"Bearer {token}"},
        json=batch_body(args.entities, random.Random(1)),
        timeout=30,
    )
    if probe.status_code != 200:
        print(f"  batch of {BATCH_ROWS}: not served yet ({probe.status_code}: {probe.text[:120]})")
    else:
        requests = batch_requests(token, args.entities, model)
        step = asyncio.run(saturate(port, requests, batch_duration, args.batch_connections, server))
        outcome.batch = step
        print(step.batch_line(f"POST batch of {BATCH_ROWS}", BATCH_ROWS), flush=True)
    print(f"verdict {outcome.flavour}/{outcome.store}: {outcome.verdict()}", flush=True)


if __name__ == "__main__":
    main()
