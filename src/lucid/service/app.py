"""The FastAPI application: one `Lucid` handle per worker process, bearer tokens, problem
details, Prometheus metrics, and the routes of `lucid.service.routes`."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import lucid
from lucid.bootstrap import Lucid, bootstrap
from lucid.contracts.access import Principal
from lucid.contracts.events import parse_time
from lucid.errors import LucidError
from lucid.jobs.scheduler import SCHEDULER
from lucid.service import problems
from lucid.service.prediction_route import PredictionRoute
from lucid.service.predictor import PredictionJournal, Predictor, ServingState
from lucid.settings import load_settings
from lucid.storage import schema
from lucid.storage.scheduler import last_tick

SYNC_THREADS = 4
"""Threads per worker running the synchronous routes (anyio's default is 40)."""

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Set by `lucid serve` for its workers: metrics are shared through files in this folder."""


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per worker process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lucid_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lucid_http_request_seconds",
            "HTTP request latency in seconds",
            ["method", "route"],
            registry=self.registry,
        )
        self.predictions = Counter(
            "lucid_predictions_total",
            "Predictions served",
            ["model", "version", "arm"],
            registry=self.registry,
        )


class Measured:
    """Counts every HTTP request by method, route template and status, and times it: a plain
    ASGI middleware (Starlette's `@app.middleware("http")` costs far more per request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, path, str(status)).inc()
            self.metrics.latency.labels(method, path).observe(time.perf_counter() - started)


def create_app(project_dir: Path, environ: Mapping[str, str]) -> FastAPI:
    """The service for the project in `project_dir` (settings read once, at start-up)."""
    settings = load_settings(project_dir, environ)
    metrics = Metrics()
    multiprocess_dir = environ.get(MULTIPROCESS_ENV)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Few threads per worker: more only queue on the metadata database's write lock and
        # its connection pool (measured in bench/serve.py), while waiting requests cost
        # nothing on the event loop.
        to_thread.current_default_thread_limiter().total_tokens = SYNC_THREADS
        handle = bootstrap(settings)
        handle.db.checkpoint_often()  # short stalls of the loop that commits predictions
        app.state.lucid = handle
        app.state.tokens = handle.tokens
        app.state.serving = ServingState(handle, app.state.tokens)
        app.state.serving.warm_up()
        # What start-up built (scikit-learn, pandas, the routes) lives as long as the worker:
        # kept out of the garbage collector's full passes, which otherwise walk it all.
        gc.collect()
        gc.freeze()
        app.state.journal = PredictionJournal(handle)
        app.state.predictor = Predictor(handle, app.state.serving, app.state.journal)
        try:
            yield
        finally:
            await app.state.journal.close()
            handle.close()

    app = FastAPI(
        title="Lucid",
        version=lucid.__version__,
        description="Feature store, model registry and drift monitoring bound by three "
        "contracts. Errors are application/problem+json with a sentence naming the field and "
        "the rule.",
        lifespan=lifespan,
        responses=problems.RESPONSES,
    )
    app.state.metrics = metrics
    app.add_exception_handler(LucidError, problems.lucid_error)
    app.add_exception_handler(RequestValidationError, problems.validation_error)
    app.add_exception_handler(StarletteHTTPException, problems.http_error)
    app.add_exception_handler(Exception, problems.unexpected_error)

    app.add_middleware(PredictionRoute)  # inside Measured, which times it as any route
    app.add_middleware(Measured, metrics=metrics)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up (on the event loop: a sync route costs a thread hop)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz(request: Request) -> Response:
        """The metadata database is reachable and at this Lucid's schema; `scheduler` is the
        scheduler's last tick (holder, time, summary), absent when none ever ticked."""
        try:
            schema.ensure_current(request.app.state.lucid.db)
            tick = last_tick(request.app.state.lucid.db, SCHEDULER)
        except LucidError as error:
            return problems.problem(503, "Not ready", error.sentence)
        return JSONResponse({"status": "ready"} | ({} if tick is None else {"scheduler": tick}))

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus(request: Request) -> Response:
        """Prometheus metrics: of every worker when `lucid serve` runs several (multiprocess
        mode, `PROMETHEUS_MULTIPROC_DIR`), else of this process."""
        if multiprocess_dir:
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged, path=multiprocess_dir)  # type: ignore[no-untyped-call]
            text = generate_latest(merged)
        else:
            text = generate_latest(metrics.registry)
        return Response(text + scheduler_metrics(request), media_type=CONTENT_TYPE_LATEST)

    from lucid.service import dashboard, experiment_routes, monitoring_routes, routes

    app.include_router(routes.router)
    app.include_router(monitoring_routes.router)
    app.include_router(experiment_routes.router)
    app.include_router(dashboard.router)
    return app


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


async def lucid_handle(request: Request) -> Lucid:  # async: no thread hop per request
    handle: Lucid = request.app.state.lucid
    return handle


_BEARER = HTTPBearer(
    auto_error=False,
    description="An API token from `lucid tokens create`: `Authorization: Bearer <token>`.",
)


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials.strip() if credentials is not None else None


def principal(request: Request, credentials: BearerDep = None) -> Principal:
    """The principal of the request's bearer token (401 without a valid one)."""
    serving: ServingState = request.app.state.serving
    return serving.principal(bearer_token(credentials), serving.current())


LucidDep = Annotated[Lucid, Depends(lucid_handle)]
PrincipalDep = Annotated[Principal, Depends(principal)]
