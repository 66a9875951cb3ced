"""The prediction hot path of `lucid serve`: what a worker keeps between requests, and the
prediction of each request (the journal that makes it durable: `group_commit`).

`ServingState` keeps each token's principal, each model's route (production version, running
experiment) and the loaded versions between requests. Every change to those is an event in
the log (a promotion, rollback, archive, experiment start or end, token revocation, feature
deprecation), so a request first reads one figure — the sequence number of the latest such
event — and the worker drops what it kept when that figure moved. A prediction made after a
rollback committed is never served by the rolled-back version.

`PredictionJournal` is a group commit: each request hands it what its prediction must log
and waits; an answer therefore means a stored log. `TurnBatches` does the same for the
online store and the model: the entities waiting for one list of features are read in one
round trip, the rows waiting for one version are predicted in one call.

Everything here runs on the worker's event loop but what the worker has not kept yet (read
on a thread once).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from anyio import to_thread

from lucid.access.tokens import Tokens
from lucid.contracts.access import Principal
from lucid.contracts.experiments import Design, ShadowDesign
from lucid.contracts.semantic import ServedValue
from lucid.contracts.value.request_inputs import checked_values
from lucid.errors import Conflict, InvalidInput, LucidError
from lucid.features.serving import fresh_rows
from lucid.monitoring.served_predictions import (
    Asked,
    Routed,
    answered,
    arm_of,
    by_version,
    exposure_rows,
    logged_predictions,
    routed,
)
from lucid.registry.serving import ServedModel
from lucid.service.group_commit import SERVING_EVENTS, Entry, Expected, PredictionJournal
from lucid.service.turn_batches import TurnBatches
from lucid.storage.feature_registry import served_value_rows
from lucid.storage.prediction_journal import SqlPredictionJournal

if TYPE_CHECKING:
    from lucid.bootstrap import Lucid


K = TypeVar("K")
T = TypeVar("T")
Reads = list[tuple[dict[str, ServedValue], datetime]]
"""Each entity's served values by pin, and the moment they were read at."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where a model's predictions go: its running experiment, else its production version;
    and the shadow comparison whose challenger scores production's requests, if one runs."""

    experiment: str | None
    production: int | None
    shadow: str | None = None


class ServingState:
    """Principals, routes and loaded versions of one worker, kept until a serving event."""

    def __init__(self, lucid: Lucid, tokens: Tokens) -> None:
        self._lucid = lucid
        self._tokens = tokens
        self._serving_log = SqlPredictionJournal(lucid.db, SERVING_EVENTS)
        self._guard = threading.Lock()
        self._seen = -1
        self._turn_read: int | None = None  # `current` as read in this turn of the loop
        self._principals: dict[str, Principal] = {}
        self._routes: dict[str, Route] = {}
        # A version's artifact and an experiment's design never change once stored.
        self._models: dict[tuple[str, int], ServedModel] = {}
        self._designs: dict[str, Design] = {}
        self._shadows: dict[str, ShadowDesign] = {}

    @property
    def principals(self) -> Mapping[str, Principal]:
        return self._principals

    @property
    def routes(self) -> Mapping[str, Route]:
        return self._routes

    @property
    def models(self) -> Mapping[tuple[str, int], ServedModel]:
        return self._models

    @property
    def designs(self) -> Mapping[str, Design]:
        return self._designs

    @property
    def shadows(self) -> Mapping[str, ShadowDesign]:
        return self._shadows

    def current(self) -> int:
        """Read the latest serving event and drop what was kept before it; returns its number,
        which the request passes back when it asks for something."""
        latest = self._serving_log.latest_event()
        if latest > self._seen:
            with self._guard:
                if latest > self._seen:  # numbers only move forward
                    self._seen = latest
                    self._principals = {}
                    self._routes = {}
                    self._lucid.features.forget_served_definitions()
        return latest

    def current_in_turn(self) -> int:
        """`current` on the running event loop, one read shared until the loop's queue of ready
        callbacks reaches the one this read queued: a request whose step comes before that
        callback was received before the read (a request received later queues its step after
        it), so a request received after a serving event committed still sees that event."""
        if self._turn_read is None:
            self._turn_read = self.current()
            asyncio.get_running_loop().call_soon(self._end_turn)
        return self._turn_read

    def _end_turn(self) -> None:
        self._turn_read = None

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
            route = Route(running, production, self._lucid.shadow.running_for(model))
            self._keep(self._routes, model, route, seen)
        return route

    def design(self, experiment_id: str) -> Design:
        design = self._designs.get(experiment_id)
        if design is None:
            design = self._designs[experiment_id] = self._lucid.experiments.design(experiment_id)
        return design

    def shadow(self, comparison_id: str) -> ShadowDesign:
        design = self._shadows.get(comparison_id)
        if design is None:
            design = self._shadows[comparison_id] = self._lucid.shadow.design(comparison_id)
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
        """Open the online store and load every production version and the versions of running
        experiments before the worker answers (importing scikit-learn takes seconds, which the
        first prediction would otherwise wait for). What cannot load or connect is left to the
        request, which answers with the reason."""
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
        for comparison in self._lucid.shadow.overview():
            if comparison["status"] == "running":
                wanted.append((comparison["model"], comparison["challenger_version"]))
        for name, version in wanted:
            with contextlib.suppress(LucidError):
                self.model(name, version)
        with contextlib.suppress(LucidError):  # unreachable: each prediction says so
            self._lucid.features.connect_online()

    def _keep(self, kept: dict[Any, Any], key: Any, value: Any, seen: int) -> None:
        # Kept only if no serving event came after the request's read: a value read before a
        # later event may be that event's old state.
        with self._guard:
            if seen == self._seen:
                kept[key] = value


@dataclass(frozen=True, slots=True)
class Group:
    """The entities of one request served by one version, with their request-time values."""

    entities: list[str]
    inputs: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Scores:
    """What one `Group` was served and predicted: each entity's served values (and when they
    were read), then its model inputs and result; or, for a group with a missing, stale or
    unknown value, the refusal and nothing predicted."""

    read: Reads
    rows: list[dict[str, Any]]
    results: list[tuple[Any, float | None]]
    refusal: Conflict | None = None


class Predictor:
    """Predicts for one entity or a batch on a worker's event loop: routing, the check of the
    request-time inputs, the features read online and the model, batched together, then the
    log (journal). Only what a worker has not kept yet is read on a thread; the kept state,
    the online read and the model run on the loop. The requests served by one version in one
    turn of the loop are read from the online store at once and predicted in one call
    (`TurnBatches`): one step of the loop for both on SQLite, whose reads do not wait."""

    def __init__(self, lucid: Lucid, state: ServingState, journal: PredictionJournal) -> None:
        self._lucid = lucid
        self._state = state
        self._journal = journal
        self._reads_wait: bool | None = None  # known once the online store is open
        self._scores = TurnBatches(self._read_and_score)
        self._reads = TurnBatches(self._read_online)  # a shadow challenger's own features
        self._calls = TurnBatches(self._call_model)  # a shadow challenger's model

    async def predict(
        self,
        model: str,
        entity_id: str,
        token: str | None,
        inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The answer for `entity_id` (its request-time values `inputs`), once its prediction
        and served values are logged."""
        [answer] = await self._predict(model, [Asked(entity_id, inputs)], token, _single)
        return {"model": model, **answer}

    async def predict_batch(
        self, model: str, asked: Sequence[Asked], token: str | None
    ) -> dict[str, Any]:
        """The answers for every entity, in request order, once all are logged; one bad
        request-time value refuses them all (`entities[i].inputs.<name>`), nothing logged;
        so does a batch of more than `max_predict_batch` entities."""
        most = self._lucid.settings.max_predict_batch
        if not 1 <= len(asked) <= most:
            raise InvalidInput(
                "entities", f"must hold 1 to {most} entities (max_predict_batch), not {len(asked)}"
            )
        answers = await self._predict(model, asked, token, _in_batch)
        return {"model": model, "predictions": answers}

    async def _predict(
        self, model: str, asked: Sequence[Asked], token: str | None, where: Callable[[int], str]
    ) -> list[dict[str, Any]]:
        expected = self._journal.expect()
        try:
            return await self._predicted(model, asked, token, where, expected)
        finally:
            self._journal.settle(expected)

    async def _predicted(
        self,
        model: str,
        asked: Sequence[Asked],
        token: str | None,
        where: Callable[[int], str],
        expected: Expected,
    ) -> list[dict[str, Any]]:
        state = self._state
        seen = state.current_in_turn()
        who = await _kept(state.principals, token or "", state.principal, token, seen)
        who.require_logging(action=f"predicting with {model} (each prediction is logged)")
        route = await _kept(state.routes, model, state.route, model, seen)
        design = None
        if route.experiment is not None:
            design = await _kept(state.designs, route.experiment, state.design, route.experiment)
        arms = [arm_of(item.entity_id, design, route.production) for item in asked]
        models = {}
        for _, version in arms:
            if version not in models:
                models[version] = await _kept(
                    state.models, (model, version), state.model, model, version
                )
        items = routed(asked, arms, lambda version: models[version].request_inputs, where)
        entry = Entry()
        answers: list[dict[str, Any]] = [{}] * len(items)
        for version, group in by_version(items).items():
            served = models[version]
            scores = await self._scores.ask(
                (model, version),
                Group([item.entity_id for item in group], [item.values for item in group]),
            )
            read, rows, results = scores.read, scores.rows, scores.results
            values = [row for row, _ in read]
            for row, moment in read:
                entry.served += served_value_rows(list(row.values()), moment)
            if scores.refusal is not None:
                # An id its entity's listing source does not hold: 404, nothing predicted.
                self._lucid.features.check_known(served.features, values)
                await self._journal.log(entry, expected)  # what was served is logged
                raise scores.refusal
            logged = logged_predictions(model, version, group, rows, results, read[0][1])
            entry.predictions += logged
            for item, row, result, log in zip(group, rows, results, logged, strict=True):
                answers[item.position] = answered(item, row, result, log)
            if route.shadow is not None and design is None:
                entry.shadow += await self._shadow_scores(
                    route.shadow, version, group, values, logged
                )
        if route.experiment is not None:
            entry.exposure = (route.experiment, who.person, exposure_rows(items))
        await self._journal.log(entry, expected)
        return answers

    async def _shadow_scores(
        self,
        comparison_id: str,
        version: int,
        items: list[Routed],
        values: list[dict[str, ServedValue]],
        logged: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The challenger's scores of the same requests, from the same values when it pins
        the same features (else its own, read online); none when it cannot score them."""
        state = self._state
        design = await _kept(state.shadows, comparison_id, state.shadow, comparison_id)
        if design.control_version != version:
            return []  # production changed since the comparison started
        key = (design.model, design.challenger_version)
        entities = [item.entity_id for item in items]
        try:
            challenger = await _kept(state.models, key, state.model, *key)
            own = values
            if set(challenger.features) != set(values[0]):
                own = [row for row, _ in await self._reads.ask_many(challenger.features, entities)]
            rows = challenger.by_name(
                fresh_rows(own),
                [checked_values(challenger.request_inputs, item.values) for item in items],
            )
            results = await self._calls.ask_many(key, rows)
        except Exception:  # the challenger does not act: its failure never fails production
            return []
        return [
            {"comparison_id": comparison_id, "prediction_id": log["id"], "score": score}
            for log, (_, score) in zip(logged, results, strict=True)
            if score is not None
        ]

    def _read_and_score(
        self, version: tuple[str, int], groups: list[Group]
    ) -> list[Scores] | Awaitable[list[Scores]]:
        """Each group's served values and predictions: one online read for every group, then
        one call of the model for the groups whose values are all fresh."""
        served = self._state.model(*version)
        read = self._read_online(served.features, [e for group in groups for e in group.entities])
        if isinstance(read, list):
            return _scored(served, groups, read)
        return self._scored_once_read(served, groups, read)

    async def _scored_once_read(
        self, served: ServedModel, groups: list[Group], read: Awaitable[Reads]
    ) -> list[Scores]:
        return _scored(served, groups, await read)

    def _read_online(
        self, features: tuple[str, ...], entities: list[str]
    ) -> Reads | Awaitable[Reads]:
        """Each entity's served values and the moment they were read at (served_at); none for
        a version that pins no feature (it takes only request-time inputs). Read at once from
        a store whose reads do not wait (SQLite); awaited from one that does (Redis)."""
        moment = self._lucid.clock()
        if not features:
            return [({}, moment) for _ in entities]
        if self._reads_wait is None:
            self._reads_wait = self._lucid.features.online_reads_wait()
        if self._reads_wait:
            return self._read_waiting(features, entities, moment)
        rows = self._lucid.features.get_online_features_now(entities, features, now=moment)
        return [(row, moment) for row in rows]

    async def _read_waiting(
        self, features: tuple[str, ...], entities: list[str], moment: datetime
    ) -> Reads:
        rows = await self._lucid.features.get_online_features_async(entities, features, now=moment)
        return [(row, moment) for row in rows]

    def _call_model(
        self, version: tuple[str, int], rows: list[dict[str, Any]]
    ) -> list[tuple[Any, float | None]]:
        """Each row's prediction and score (P(label = 1), None without one)."""
        predictions, scores = self._state.model(*version).predict_scored(rows)
        return list(zip(predictions, scores, strict=True))


def _scored(served: ServedModel, groups: list[Group], read: Reads) -> list[Scores]:
    """`Predictor._read_and_score` once the values are read."""
    found: list[tuple[Reads, list[dict[str, Any]] | Conflict]] = []
    start = 0
    for group in groups:
        mine = read[start : start + len(group.entities)]
        start += len(group.entities)
        try:
            found.append((mine, served.by_name(fresh_rows([row for row, _ in mine]), group.inputs)))
        except Conflict as refusal:
            found.append((mine, refusal))
    rows = [row for _, named in found if not isinstance(named, Conflict) for row in named]
    predictions, scores = served.predict_scored(rows) if rows else ([], [])
    results = iter(zip(predictions, scores, strict=True))
    answers = []
    for mine, named in found:
        if isinstance(named, Conflict):
            answers.append(Scores(mine, [], [], named))
        else:
            answers.append(Scores(mine, named, [next(results) for _ in named]))
    return answers


def _single(position: int) -> str:
    return "inputs"


def _in_batch(position: int) -> str:
    return f"entities[{position}].inputs"


async def _kept(kept: Mapping[K, T], key: K, read: Callable[..., T], *args: Any) -> T:
    """What the worker kept under `key`, else `read(*args)` on a thread: reading a token or
    a route, or loading an artifact, would stall every other request of the loop."""
    found = kept.get(key)
    return found if found is not None else await to_thread.run_sync(read, *args)
