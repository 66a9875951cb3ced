"""Dashboard pages and read endpoints: p50/p95 of 20 calls each against `lucid serve`.

Opens a demo project (`--project`, the `negentropic` folder of `lucid demo`; else builds a
small one with `lucid demo --customers 400 --days 120` in a scratch folder), makes a viewer
token in it, starts `lucid serve` on loopback with the code this process imports, signs in to
the dashboard with the token, and calls every dashboard page and `/v1` read endpoint
`--calls` times, one at a time. Per URL it prints the status, the first call (a cold cache
shows there), then p50/p95 of the next calls in milliseconds; `GET /healthz` (no database) is
measured the same way first, as the baseline of the server and the client. A last line gives
the verdict: every URL's p95 under `--goal` ms (300) or the ones over it.

The project is written to (a token, the kept skew): measure a copy. A project made by an
older Lucid needs `lucid db upgrade` first. To measure other code, run this with that code's
`src` on PYTHONPATH (the server inherits it).

    PYTHONPATH=src uv run python bench/dashboard.py [--project DIR] [--calls 20]
        [--goal 300] [--workers 1]

Measured on the demo of `lucid demo` at its default size (2 cores, ~585k served values
logged), p95: before the skew was kept, `/dashboard` 16.2 s, `/dashboard/incidents` 15.8 s,
`/v1/scorecard` 8.7 s (5 calls each), `/dashboard/monitoring/churn` 509 ms (two queries per
run); after, every URL under 300 ms (slowest: `/dashboard/monitoring/churn` 227 ms,
`/v1/monitoring/runs` 63 ms, `/dashboard` 52 ms, `/v1/scorecard` 15 ms; `/healthz` 0.9 ms).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from servers import free_port, start_server

from lucid.bootstrap import open_project

PAGES = (
    "/dashboard",
    "/dashboard/features",
    "/dashboard/models",
    "/dashboard/models/churn",
    "/dashboard/monitoring",
    "/dashboard/monitoring/churn",
    "/dashboard/incidents",
    "/dashboard/experiments",
    "/dashboard/events",
)
ENDPOINTS = (
    "/v1/scorecard",
    "/v1/models",
    "/v1/models/churn",
    "/v1/models/churn/history",
    "/v1/models/churn/observations",
    "/v1/features",
    "/v1/features/audit",
    "/v1/events",
    "/v1/incidents",
    "/v1/experiments",
    "/v1/monitoring/runs",
    "/v1/monitoring/policies/churn",
    "/v1/alerts",
)


def build_demo(folder: Path) -> Path:
    """A small demo in `folder`; returns its negentropic project."""
    command = [sys.executable, "-m", "lucid", "demo", "--dir", str(folder / "demo")]
    subprocess.run([*command, "--customers", "400", "--days", "120"], check=True)
    return folder / "demo" / "negentropic"


def viewer_token(project: Path) -> str:
    with open_project(project, environ={}) as lucid:
        return lucid.tokens.create(
            person="bench", role="viewer", teams=[], actor="bench", rationale="bench/dashboard"
        )[1]


def measure(client: httpx.Client, url: str, calls: int) -> tuple[int, float, list[float]]:
    """The status, the first call's milliseconds and the next `calls` calls' milliseconds."""
    timings = []
    status = 0
    for _ in range(calls + 1):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(1000 * (time.perf_counter() - started))
        status = response.status_code
    return status, timings[0], timings[1:]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run(project: Path, calls: int, goal: float, workers: int) -> bool:
    token = viewer_token(project)
    port = free_port()
    server = start_server(project, port, workers, project / "bench-dashboard-serve.log")
    slow: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            signed = client.post("/dashboard/login", data={"token": token})
            if signed.status_code not in (200, 303) or not client.cookies:
                raise SystemExit(f"signing in failed: {signed.status_code}")
            client.headers["Authorization"] = f"Bearer {token}"
            print(f"{'url':34} {'status':>6} {'first':>9} {'p50':>9} {'p95':>9}   (ms)")
            for url in ("/healthz", *PAGES, *ENDPOINTS):
                status, first, timings = measure(client, url, calls)
                high = p95(timings)
                print(
                    f"{url:34} {status:>6} {first:>9.1f} {statistics.median(timings):>9.1f}"
                    f" {high:>9.1f}",
                    flush=True,
                )
                if status != 200 or high >= goal:
                    slow.append(f"{url} ({status}, p95 {high:.0f} ms)")
    finally:
        server.terminate()
        server.wait(timeout=30)
    if slow:
        print(f"verdict: {len(slow)} over {goal:.0f} ms or failing: {', '.join(slow)}")
    else:
        print(f"verdict: every page and endpoint answers in p95 < {goal:.0f} ms ({calls} calls)")
    return not slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, help="A demo's negentropic project folder.")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--goal", type=float, default=300.0, help="p95 goal in ms.")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.project is not None:
        ok = run(args.project.resolve(), args.calls, args.goal, args.workers)
    else:
        with tempfile.TemporaryDirectory(prefix="lucid-dashboard-bench-") as name:
            ok = run(build_demo(Path(name)), args.calls, args.goal, args.workers)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
