"""The prediction hot path of `lucid serve`: what a worker keeps between requests, and the
journal that makes each answered prediction durable.

`ServingState` keeps each token's principal, each model's route (production version, running
experiment) and the loaded versions between requests. Every change to those is an event in
the log (a promotion, rollback, archive, experiment start or end, token revocation, feature
deprecation), so a request first reads one figure — the sequence number of the latest such
event — and the worker drops what it kept when that figure moved. A prediction made after a
rollback committed is never served by the rolled-back version.

`PredictionJournal` is a group commit: the request threads hand it what a prediction must
log (the feature values served, for skew; the prediction, for monitoring; the exposure, for
a running experiment) and wait; one writer thread stores everything waiting in one
transaction and then wakes them. A prediction is answered only once its rows are committed,
so an answer means a stored log, and under load one commit serves many predictions.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from lucid.access.tokens import Tokens
from lucid.contracts.access import Principal
from lucid.contracts.experiments import Design, assign
from lucid.errors import Conflict, LucidError
from lucid.features.serving import fresh_rows, served_value_rows
from lucid.monitoring.predictions import prediction_rows
from lucid.registry.serving import ServedModel
from lucid.storage.event_log import EVENT_LOCK
from lucid.storage.tables import prediction_log, served_features

if TYPE_CHECKING:
    from lucid.bootstrap import Lucid

SERVING_EVENTS = (
    "ModelPromoted",
    "ModelRolledBack",
    "ModelArchived",
    "ExperimentCreated",
    "ExperimentConcluded",
    "TokenRevoked",
    "FeatureDeprecated",
)
"""The event types that change what a worker may serve or who may ask."""

_LATEST_SERVING_EVENT = "SELECT max(seq) FROM events WHERE type IN ({})".format(
    ", ".join(f"'{name}'" for name in SERVING_EVENTS)
)

PRODUCTION_ARM = "production"
"""The arm of a prediction made outside any experiment."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where a model's predictions go: its running experiment, else its production version."""

    experiment: str | None
    production: int | None


class ServingState:
    """Principals, routes and loaded versions of one worker, kept until a serving event."""

    def __init__(self, lucid: Lucid, tokens: Tokens) -> None:
        self._lucid = lucid
        self._tokens = tokens
        self._guard = threading.Lock()
        self._seen = -1
        self._principals: dict[str, Principal] = {}
        self._routes: dict[str, Route] = {}
        # A version's artifact and an experiment's design never change once stored.
        self._models: dict[tuple[str, int], ServedModel] = {}
        self._designs: dict[str, Design] = {}

    def current(self) -> int:
        """Read the latest serving event and drop what was kept before it; returns its number,
        which the request passes back when it asks for something."""
        latest = int(self._lucid.db.read_scalar(_LATEST_SERVING_EVENT) or 0)
        if latest > self._seen:
            with self._guard:
                if latest > self._seen:  # numbers only move forward
                    self._seen = latest
                    self._principals = {}
                    self._routes = {}
                    self._lucid.features.forget_served_definitions()
        return latest

    def principal(self, token: str | None, seen: int) -> Principal:
        """The principal of a bearer token (401 for a missing, unknown or revoked one)."""
        principal = self._principals.get(token) if token else None
        if principal is None:
            principal = self._tokens.authenticate(token)
            self._keep(self._principals, token, principal, seen)
        return principal

    def route(self, model: str, seen: int) -> Route:
        """The model's route; the not-found sentence for an unknown model."""
        route = self._routes.get(model)
        if route is None:
            running = self._lucid.experiments.running_for(model)
            production = self._lucid.registry.production_number(model)
            if running is None and production is None:
                self._lucid.registry.get_version(model)  # the not-found sentence
                raise Conflict(f"{model} has no production version to serve.")
            route = Route(running, production)
            self._keep(self._routes, model, route, seen)
        return route

    def design(self, experiment_id: str) -> Design:
        design = self._designs.get(experiment_id)
        if design is None:
            design = self._designs[experiment_id] = self._lucid.experiments.design(experiment_id)
        return design

    def model(self, name: str, version: int) -> ServedModel:
        """The version, loaded (its artifact's hash checked) once per worker."""
        served = self._models.get((name, version))
        if served is None:
            served = self._models[(name, version)] = self._lucid.registry.load_model(
                name, version=version
            )
        return served

    def warm_up(self) -> None:
        """Load every production version and the versions of running experiments before the
        worker answers (importing scikit-learn takes seconds, which the first prediction
        would otherwise wait for). What cannot load is left to the request, which answers
        with the reason."""
        wanted = [
            (summary.name, summary.production)
            for summary in self._lucid.registry.list_models()
            if summary.production is not None
        ]
        for experiment in self._lucid.experiments.overview():
            if experiment["status"] == "running":
                with contextlib.suppress(LucidError):
                    design = self.design(experiment["id"])
                    wanted += [
                        (design.model, design.control_version),
                        (design.model, design.challenger_version),
                    ]
        for name, version in wanted:
            with contextlib.suppress(LucidError):
                self.model(name, version)

    def _keep(self, kept: dict[Any, Any], key: Any, value: Any, seen: int) -> None:
        # Kept only if no serving event came after the request's read: a value read before a
        # later event may be that event's old state.
        with self._guard:
            if seen == self._seen:
                kept[key] = value


@dataclass
class Entry:
    """What one request must log before it is answered."""

    served: list[dict[str, Any]]
    prediction: dict[str, Any] | None = None
    exposure: tuple[str, str, dict[str, Any]] | None = None
    """(experiment id, actor, exposure row) when a running experiment routed the request."""
    done: Future[None] = field(default_factory=Future)


_STOP = object()


class PredictionJournal:
    """One writer thread storing what waiting requests logged, many requests per commit."""

    def __init__(self, lucid: Lucid, *, most: int = 512) -> None:
        self._lucid = lucid
        self._most = most
        self._waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lucid-journal", daemon=True)
        self._thread.start()

    def submit(self, entry: Entry) -> Future[None]:
        """Queue an entry; its future completes once it is committed (or refused)."""
        if not self._thread.is_alive():
            raise Conflict("The prediction journal is closed; nothing was logged.")
        self._waiting.put(entry)
        return entry.done

    def close(self) -> None:
        """Store what is waiting, then stop."""
        self._waiting.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if first is _STOP:
                return
            batch = [first]
            stopping = False
            while len(batch) < self._most:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            self._store(batch)
            if stopping:
                return

    def _store(self, batch: list[Entry]) -> None:
        try:
            refused = self._write(batch)
        except Exception as error:  # every request of the batch answers with it
            for entry in batch:
                entry.done.set_exception(error)
            return
        for entry in batch:
            reason = refused.get(id(entry))
            if reason is None:
                entry.done.set_result(None)
            else:
                entry.done.set_exception(reason)

    def _write(self, batch: list[Entry]) -> dict[int, LucidError]:
        db = self._lucid.db
        exposed: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for entry in batch:
            if entry.exposure is not None:
                exposed[entry.exposure[:2]].append(entry)
        refused: dict[int, LucidError] = {}
        # Exposures append an event, which takes the event log's lock.
        begin = db.locked_transaction(EVENT_LOCK) if exposed else db.write_transaction()
        with begin as connection:
            for (experiment_id, actor), entries in exposed.items():
                rows = [entry.exposure[2] for entry in entries if entry.exposure is not None]
                try:
                    self._lucid.experiments.expose_in(connection, experiment_id, rows, actor=actor)
                except Conflict as error:  # the experiment ended after the routing
                    refused.update(
                        (id(entry), Conflict(f"{error.sentence} Ask again.")) for entry in entries
                    )
            kept = [entry for entry in batch if id(entry) not in refused]
            served = [row for entry in kept for row in entry.served]
            if served:
                connection.execute(insert(served_features), served)
            predictions = [entry.prediction for entry in kept if entry.prediction is not None]
            if predictions:
                connection.execute(insert(prediction_log), predictions)
        return refused


@dataclass(frozen=True)
class Prepared:
    """A prediction made and its log entry, or the refusal to answer once it is logged."""

    entry: Entry
    answer: dict[str, Any] | None = None
    refusal: LucidError | None = None


class Predictor:
    """Predicts for one entity: routing, features read online, the model, the log entry."""

    def __init__(self, lucid: Lucid, state: ServingState) -> None:
        self._lucid = lucid
        self.state = state

    def prepare(self, model: str, entity_id: str, token: str | None) -> Prepared:
        """Everything of a prediction but waiting for its log (blocking: reads and the
        model)."""
        seen = self.state.current()
        who = self.state.principal(token, seen)
        route = self.state.route(model, seen)
        arm, experiment = PRODUCTION_ARM, route.experiment
        if experiment is not None:
            design = self.state.design(experiment)
            arm = assign(entity_id, design.salt, design.challenger_share)
            version = design.version_of(arm)
        else:
            assert route.production is not None  # a route has one or the other
            version = route.production
        served = self.state.model(model, version)
        moment = self._lucid.clock()
        values = self._lucid.features.get_online_features([entity_id], served.features, now=moment)
        entry = Entry(served_value_rows([v for row in values for v in row.values()], moment))
        try:
            [row] = served.by_name(fresh_rows(values))
        except Conflict as refusal:
            return Prepared(entry, refusal=refusal)
        [prediction] = served([row])
        [score] = served.scores([row])
        [entry.prediction] = prediction_rows(
            model,
            served.version,
            [
                {
                    "entity": entity_id,
                    "served_at": moment,
                    "features": row,
                    "score": score if score is not None else float(prediction),
                    "arm": arm,
                }
            ],
        )
        if experiment is not None:
            entry.exposure = (experiment, who.person, {"entity_id": entity_id, "arm": arm})
        answer = {
            "model": model,
            "version": served.version,
            "arm": arm,
            "entity_id": entity_id,
            "prediction": prediction,
            "score": score,
            "prediction_id": entry.prediction["id"],
        }
        return Prepared(entry, answer=answer)
