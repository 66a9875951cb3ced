"""The FastAPI application: one `Lucid` handle per worker process, bearer tokens, problem
details, Prometheus metrics, the `/v1` routes of `lucid.service` and the dashboard's pages."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import lucid
from lucid.bootstrap import bootstrap
from lucid.dashboard import pages
from lucid.errors import LucidError
from lucid.http import problems
from lucid.http.body_limit import BodyLimit
from lucid.http.text_fields import plain_parameters
from lucid.service import (
    experiment_routes,
    incident_routes,
    logging_routes,
    monitoring_routes,
    operations,
    routes,
    shadow_routes,
)
from lucid.service.group_commit import PredictionJournal
from lucid.service.prediction_route import PATH as PREDICT_PATH
from lucid.service.prediction_route import PredictionRoute
from lucid.service.predictor import Predictor, ServingState
from lucid.settings import Settings, load_settings

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
    ASGI middleware (Starlette's `@app.middleware("http")` costs far more per request). Each
    labelled counter and histogram is looked up once (`labels` checks and locks each call)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

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
            counter = self._counters.get((method, path, status))
            if counter is None:
                counter = self.metrics.requests.labels(method, path, str(status))
                self._counters[(method, path, status)] = counter
            counter.inc()
            timer = self._timers.get((method, path))
            if timer is None:
                timer = self._timers[(method, path)] = self.metrics.latency.labels(method, path)
            timer.observe(time.perf_counter() - started)


class Service(FastAPI):
    """The FastAPI application, but `POST /v1/predict/{model}` goes straight to its own
    stack (metrics, body limit, `PredictionRoute`) without passing FastAPI's and Starlette's
    middleware and router: the hot path pays only for what it uses."""

    predictions: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.predictions is not None and PredictionRoute.serves(scope):
            scope["app"] = self  # as Starlette sets it: the route reads the worker's state
            await self.predictions(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(project_dir: Path, environ: Mapping[str, str]) -> FastAPI:
    """The service for the project in `project_dir` (settings read once, at start-up)."""
    settings = load_settings(project_dir, environ)
    metrics = Metrics()
    app = Service(
        title="Lucid",
        version=lucid.__version__,
        description="Feature store, model registry and drift monitoring bound by three "
        "contracts. Errors are application/problem+json with a sentence naming the field and "
        "the rule.",
        lifespan=_lifespan(settings),
        responses=problems.RESPONSES,
    )
    app.state.metrics = metrics
    app.state.multiprocess_dir = environ.get(MULTIPROCESS_ENV)
    app.add_exception_handler(LucidError, problems.lucid_error)
    app.add_exception_handler(RequestValidationError, problems.validation_error)
    app.add_exception_handler(StarletteHTTPException, problems.http_error)
    app.add_exception_handler(Exception, problems.unexpected_error)

    limits = [(PREDICT_PATH, settings.max_predict_body_bytes)]
    # Before any route reads a body or checks a token.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, limits=limits)
    app.add_middleware(Measured, metrics=metrics)
    predict = BodyLimit(PredictionRoute(), limit=settings.max_body_bytes, limits=limits)
    app.predictions = Measured(predict, metrics)  # timed and counted as any route

    plain = [Depends(plain_parameters)]  # no control character in parameters or form fields
    app.include_router(operations.router)
    app.include_router(routes.router, dependencies=plain)
    app.include_router(incident_routes.router, dependencies=plain)
    app.include_router(monitoring_routes.router, dependencies=plain)
    app.include_router(logging_routes.router, dependencies=plain)
    app.include_router(experiment_routes.router, dependencies=plain)
    app.include_router(shadow_routes.router, dependencies=plain)
    app.include_router(pages.router, dependencies=plain)
    app.add_api_route("/", pages.to_dashboard, methods=["GET"], include_in_schema=False)
    return app


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown of one worker: its `Lucid` handle, tokens, serving state and
    prediction journal."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Few threads per worker: more only queue on the metadata database's write lock and
        # its connection pool (measured in bench/serve.py), while waiting requests cost
        # nothing on the event loop.
        to_thread.current_default_thread_limiter().total_tokens = SYNC_THREADS
        handle = bootstrap(settings)
        handle.db.checkpoint_in_background()  # not in the commits of the loop
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

    return lifespan
