"""The routes operators and their tools read: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from lucid.contracts.events import parse_time
from lucid.errors import LucidError
from lucid.http import problems
from lucid.jobs.scheduler import SCHEDULER
from lucid.storage import schema
from lucid.storage.scheduler import last_tick

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (on the event loop: a sync route costs a thread hop)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """The metadata database is reachable and at this Lucid's schema; `scheduler` is the
    scheduler's last tick (holder, time, summary), absent when none ever ticked."""
    try:
        schema.ensure_current(request.app.state.lucid.db)
        tick = last_tick(request.app.state.lucid.db, SCHEDULER)
    except LucidError as error:
        return problems.problem(503, "Not ready", error.sentence)
    return JSONResponse({"status": "ready"} | ({} if tick is None else {"scheduler": tick}))


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request) -> Response:
    """Prometheus metrics: of every worker when `lucid serve` runs several (multiprocess
    mode, `PROMETHEUS_MULTIPROC_DIR`), else of this process."""
    multiprocess_dir = request.app.state.multiprocess_dir
    if multiprocess_dir:
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        text = generate_latest(merged)
    else:
        text = generate_latest(request.app.state.metrics.registry)
    return Response(text + scheduler_metrics(request), media_type=CONTENT_TYPE_LATEST)


def scheduler_metrics(request: Request) -> bytes:
    """`lucid_scheduler_last_tick_timestamp_seconds`, read from the heartbeat at scrape time
    (the scheduler is another process); nothing when no scheduler ever ticked."""
    try:
        tick = last_tick(request.app.state.lucid.db, SCHEDULER)
    except LucidError:
        return b""
    if tick is None:
        return b""
    registry = CollectorRegistry()
    Gauge(
        "lucid_scheduler_last_tick_timestamp_seconds",
        "Unix time of the scheduler's last tick",
        registry=registry,
    ).set(parse_time(tick["ticked_at"]).timestamp())
    Gauge(
        "lucid_scheduler_last_tick_duration_seconds",
        "How long the scheduler's last tick took",
        registry=registry,
    ).set(tick["seconds"])
    return generate_latest(registry)
