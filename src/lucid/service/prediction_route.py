"""`POST /v1/predict/{model}` as a bare ASGI handler, called by `lucid.service.app.Service`
before FastAPI's own stack.

The prediction route is the service's hot path. Through FastAPI a prediction spent most of its
CPU outside the prediction: matching the path against every route, solving dependencies,
running the route through FastAPI's and Starlette's middleware layers, serialising through
the response model (`bench/serve.py` with py-spy). Here the route parses its body with the
same pydantic model, authenticates the same bearer token, predicts with the same `Predictor`,
and answers errors with the same problem bodies and metrics; FastAPI keeps the route's
declaration, so the OpenAPI document and every other route are unchanged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError
from pydantic_core import from_json
from starlette.types import Receive, Scope, Send

from lucid.errors import InvalidInput, LucidError
from lucid.http import problems
from lucid.http.body_limit import BodyTooLarge
from lucid.http.text_fields import refusal
from lucid.monitoring.served_predictions import Asked
from lucid.service.bodies import EntityId, RequestBody
from lucid.service.predictor import Predictor

PATH = "/v1/predict/"
ROUTE = "/v1/predict/{model}"

_log = logging.getLogger("lucid.service")


INPUTS = Field(
    None,
    description="The version's request-time inputs by name (`GET /v1/models/{name}` lists "
    "them): numbers, integers, booleans or text, each checked against its declaration.",
)


class PredictionRequest(RequestBody):
    """The body of `POST /v1/predict/{model}` for one entity (FastAPI's declaration of the
    route takes it too, for the OpenAPI document). Its size is bounded by
    `lucid.http.body_limit` (`max_predict_body_bytes`)."""

    entity_id: EntityId
    inputs: dict[str, Any] | None = INPUTS


class BatchRequest(RequestBody):
    """The body of `POST /v1/predict/{model}` for a batch: 1 to `max_predict_batch` entities
    (1,000 by default), answered in order."""

    entities: list[PredictionRequest] = Field(
        min_length=1, description="The entities, each with its request-time inputs."
    )


def parsed(raw: bytes) -> PredictionRequest | BatchRequest:
    """The body as one entity or a batch (a body with `entities` is a batch); InvalidInput
    naming the first refused field, or `body` for what is not JSON (NaN included)."""
    try:
        data = from_json(raw, allow_inf_nan=False)  # pydantic's own parser, strict JSON
    except ValueError:
        data = raw  # refused below in the API's words for a body that is not JSON
    try:
        if isinstance(data, bytes):
            PredictionRequest.model_validate_json(data)  # refuses what is not JSON
            raise InvalidInput("body", "must be JSON, in which NaN and Infinity are no numbers")
        if isinstance(data, dict) and "entities" in data:
            return BatchRequest.model_validate(data)
        return PredictionRequest.model_validate(data)
    except ValidationError as error:
        raise _invalid(error) from None


@dataclass(frozen=True)
class _Route:
    path: str


_LABEL = _Route(ROUTE)


class PredictionRoute:
    """Serves `POST /v1/predict/{model}` (the requests `serves` says it takes)."""

    @staticmethod
    def serves(scope: Scope) -> bool:
        """Whether the request is a `POST /v1/predict/{model}`."""
        path: str = scope.get("path", "")
        return (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and path.startswith(PATH)
            and len(path) > len(PATH)
            and "/" not in path[len(PATH) :]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        scope["route"] = _LABEL  # what `Measured` labels the request with, as for any route
        state = scope["app"].state  # the FastAPI application's, set by Starlette
        status, body, headers = await self._answer(state, scope, receive, path[len(PATH) :])
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self, state: Any, scope: Scope, receive: Receive, model: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        try:
            raw = await _body(receive)
            reason = refusal(model)
            if reason is not None:
                raise InvalidInput("model", reason)
            asked = parsed(raw)
            answer = await predicted(state.predictor, model, asked, _bearer(scope))
        except LucidError as error:
            return _problem(error)
        except BodyTooLarge:
            raise  # answered by `BodyLimit`
        except Exception:
            _log.exception("POST %s failed", scope["path"])
            return _encoded(500, problems.problem_body(500, "Internal error", problems.BUG))
        count(state.metrics, model, answer)
        body = json.dumps(answer, separators=(",", ":")).encode()
        return 200, body, [(b"content-type", b"application/json")]


async def predicted(
    predictor: Predictor, model: str, asked: PredictionRequest | BatchRequest, token: str | None
) -> dict[str, Any]:
    if isinstance(asked, BatchRequest):
        entities = [Asked(item.entity_id, item.inputs) for item in asked.entities]
        return await predictor.predict_batch(model, entities, token)
    return await predictor.predict(model, asked.entity_id, token, asked.inputs)


def count(metrics: Any, model: str, answer: dict[str, Any]) -> None:
    """Count the answer's predictions by version and arm (`lucid_predictions_total`)."""
    if "predictions" not in answer:
        metrics.predictions.labels(model, str(answer["version"]), answer["arm"]).inc()
        return
    counted: dict[tuple[str, str], int] = {}
    for one in answer["predictions"]:
        key = (str(one["version"]), one["arm"])
        counted[key] = counted.get(key, 0) + 1
    for (version, arm), number in counted.items():
        metrics.predictions.labels(model, version, arm).inc(number)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("body", "the client left before sending it")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _invalid(error: ValidationError) -> InvalidInput:
    """The first refusal of the body, as the API words it (`lucid.http.problems`)."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return InvalidInput(field, problems.rule_of(first))


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


def _problem(error: LucidError) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    status, title = problems.status_and_title(error)
    field = error.field if isinstance(error, InvalidInput) else None
    return _encoded(status, problems.problem_body(status, title, error.sentence, field))


def _encoded(status: int, body: dict[str, Any]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    headers = [(b"content-type", b"application/problem+json")]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    return status, json.dumps(body).encode(), headers
