"""Predictions over HTTP: `POST /v1/predict/churn` against `lucid serve` on loopback.

Builds a scratch project (the sample activity of `--entities` customers, the canonical
features approved and materialised online, a production churn model, a viewer token), starts
`lucid serve --workers N` and, for each online store (SQLite, then Redis), drives it open-loop
at increasing target rates for `--duration` seconds per step. Per step it prints the target
rate, the achieved throughput (answers with status 200 per second), p50/p99 latency
(measured from the moment each request was *due*, so a server that falls behind shows it)
and the error count (non-200 answers, broken connections, requests still unanswered 10 s
after the step).

The load generator is a raw asyncio HTTP/1.1 client on keep-alive connections in this
process; it shares the machine's cores with the server. Its own limit is measured in the same
run: the same steps against `GET /healthz` (no database, no model) come first, and each line
shows the CPU the generator and the server used (in cores).
Goal on a 2-core machine: at least 1,000 predictions/s at p99 under 20 ms with no error.

`--malformed` adds, after the clean steps, the same steps with 1 % of the requests malformed
(a NUL byte in the entity id, a body over the 64 KiB limit, broken JSON, an unknown field,
in turn): each such line shows the p99 of the valid requests, how many valid requests failed
(the goal: none) and how many malformed ones were refused with 413/422 as they should be.

    uv run python bench/serve.py [--rates 250,500,1000,1500] [--duration 60]
        [--entities 10000] [--workers 2] [--connections 64] [--stores sqlite,redis]
        [--redis-url redis://127.0.0.1:6379/0] [--baseline-duration 10] [--malformed]
        [--shadow]

`--shadow` runs the same steps while a challenger scores every request in production's
shadow (a second model call and a shadow score in the same commit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sklearn.linear_model import LogisticRegression

from lucid.bootstrap import open_project
from lucid.contracts.value import BusinessImpact, Override
from lucid.features.definition_files import load_definitions
from lucid.project import init_project
from lucid.registry.model_artifacts import SklearnArtifact
from lucid.scenarios.churn import CANONICAL_DEFINITIONS, SPEND_DEFINITIONS
from lucid.scenarios.churn.sample_activity import write_sample_activity

FEATURES = ("customer_activity_30d@1.0.0", "customer_spend_30d@1.0.0")
GOAL_RATE, GOAL_P99_MS = 1000, 20.0
LATE_AFTER_S = 10.0
"""A request still unanswered this long after its step ended is counted as an error."""
MALFORMED_SHARE = 0.01
"""The share of malformed requests `--malformed` mixes into the load."""


def build_project(
    folder: Path, entities: int, online_store_url: str | None, shadow: bool = False
) -> str:
    """The scratch project in `folder`; returns a service token's secret (an application's:
    predictions are logged, which a viewer may not do). With `shadow`, a second version at the
    challenger stage scores every production request in a running shadow comparison."""
    init_project(folder, name=f"bench_{uuid.uuid4().hex[:8]}", actor="bench", environ={}).close()
    config = folder / "lucid.yaml"
    text = config.read_text() + "approvers: [bea]\n"
    if online_store_url is not None:
        text = "\n".join(
            f"online_store_url: {online_store_url}"
            if line.startswith("online_store_url:")
            else line
            for line in text.splitlines()
        )
    config.write_text(text + "\n")
    write_sample_activity(folder, customers=entities, days=45)
    with open_project(folder, environ={}) as lucid:
        for path in (CANONICAL_DEFINITIONS, SPEND_DEFINITIONS):
            lucid.features.apply(load_definitions(path), actor="dana", rationale="bench")
        for ref in FEATURES:
            for team, person in (("marketing", "mia"), ("data-science", "sam"), ("product", "pm")):
                lucid.features.approve(ref, team=team, person=person, rationale="bench")
        model = LogisticRegression().fit(
            [[0.0, 0.0], [0.9, 80.0], [0.1, 5.0], [0.8, 60.0]], [1, 0, 1, 0]
        )
        lucid.registry.register_model(
            "churn",
            artifact=SklearnArtifact(estimator=model),
            impact=BusinessImpact(
                metric="retention_rate",
                direction="higher",
                baseline=0.80,
                target=0.82,
                measurement_period="30d",
                rollback_threshold=0.78,
                rationale="keep more customers",
            ),
            features=list(FEATURES),
            training_data="sha256:bench",
            offline_metrics={"auc": 0.8},
            registered_by="ana",
            rationale="bench model",
        )
        override = Override("bea", "bench: no A/B test needed")
        for stage in ("challenger", "production"):
            lucid.registry.promote(
                "churn", 1, stage, actor="bea", rationale="bench", override=override
            )
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
        return lucid.tokens.create(
            person="app", role="service", teams=[], actor="bench", rationale="bench"
        )[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    command = ["-m", "lucid", "--project", str(folder), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, *command, "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "serve.log").open("wb"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start: {(folder / 'serve.log').read_text()}")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


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


def _post(token: str, body: bytes) -> bytes:
    return (
        b"POST /v1/predict/churn HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def predict_requests(token: str, entities: int, malformed: float = 0.0) -> list[Request]:
    """5,000 predictions of random entities; with `malformed`, that share of them broken in
    turn: a NUL byte in the id, a body over the limit, broken JSON, an unknown field."""
    rng = random.Random(7)
    broken: list[Callable[[str], bytes]] = [
        lambda entity: json.dumps({"entity_id": f"{entity}\u0000"}).encode(),
        lambda entity: json.dumps({"entity_id": entity, "pad": "x" * 70_000}).encode(),
        lambda entity: b'{"entity_id": "' + entity.encode(),
        lambda entity: json.dumps({"entity_id": entity, "levle": "critical"}).encode(),
    ]
    built, every = [], round(1 / malformed) if malformed else 0
    for number in range(5000):
        entity = f"c{rng.randrange(entities):05d}"
        if every and number % every == every - 1:
            body = broken[number // every % len(broken)](entity)
            built.append(Request(_post(token, body), valid=False))
        else:
            built.append(Request(_post(token, json.dumps({"entity_id": entity}).encode())))
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rates", default="250,500,1000,1500", help="target rates, per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per step")
    parser.add_argument("--baseline-duration", type=float, default=10.0)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--shadow",
        action="store_true",
        help="a challenger scores every request in a running shadow comparison",
    )
    parser.add_argument(
        "--malformed",
        action="store_true",
        help=f"also run each step with {MALFORMED_SHARE * 100:g}%% malformed requests mixed in",
    )
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    print(
        f"{args.entities:,} entities, {args.workers} workers, {args.connections} keep-alive "
        f"connections, {os.cpu_count()} cores; {args.duration:g} s per step"
    )
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="lucid-serve-bench-") as name:
            folder = Path(name) / "project"
            started = time.perf_counter()
            online = None if store == "sqlite" else args.redis_url
            token = build_project(folder, args.entities, online, args.shadow)
            print(f"\nonline store {store}: project built in {time.perf_counter() - started:.1f} s")
            port = free_port()
            server = start_server(folder, port, args.workers)
            try:
                check = httpx.post(
                    f"http://127.0.0.1:{port}/v1/predict/churn",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"entity_id": "c00001"},
                )
                assert check.status_code == 200, check.text
                health = [Request(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")]
                loads = [("POST /predict", predict_requests(token, args.entities))]
                if args.malformed:
                    mixed = predict_requests(token, args.entities, MALFORMED_SHARE)
                    loads.append((f"  + {MALFORMED_SHARE:.0%} malformed", mixed))
                for rate in rates:
                    step = asyncio.run(
                        drive(
                            port, health, rate, args.baseline_duration, args.connections, server.pid
                        )
                    )
                    print(step.line("GET /healthz"), flush=True)
                for rate in rates:
                    for label, requests in loads:
                        step = asyncio.run(
                            drive(port, requests, rate, args.duration, args.connections, server.pid)
                        )
                        print(step.line(label), flush=True)
                        if rate >= GOAL_RATE:
                            print(
                                f"goal (>= {GOAL_RATE}/s, p99 < {GOAL_P99_MS:g} ms, no valid "
                                f"request failing) at {rate}/s: "
                                f"{'met' if step.met() else 'MISSED'}",
                                flush=True,
                            )
            finally:
                server.terminate()
                server.wait(timeout=30)
                if online is not None:
                    with open_project(folder, environ={}) as lucid:
                        lucid.online_store.clear()


if __name__ == "__main__":
    main()
