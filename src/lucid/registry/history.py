"""What the event log tells of a model: which version served production and why it changed,
every judgement of a version against its contract, and how every model's production
promotions got past the gate (the override share)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from heapq import merge
from typing import Any

from lucid.contracts.events import RecordedEvent
from lucid.contracts.model_history import ModelHistory, fold_history
from lucid.contracts.override_share import TALLIED_TYPES, OverrideShares, tally_promotions
from lucid.contracts.periods import check_period
from lucid.contracts.registry_events import model_subject
from lucid.contracts.times import to_utc
from lucid.contracts.value.names import validate_model_name
from lucid.registry.dependencies import RegistryDependencies


class Histories(RegistryDependencies):
    """`history`, `evaluations` and `override_shares`, folded from the event log."""

    def history(self, name: str, at: datetime | None = None) -> ModelHistory:
        """Which version served production and why it changed, folded from the event log."""
        validate_model_name(name)
        moment = to_utc(at, "at") if at is not None else None
        return fold_history(name, self._model_events(name), moment)

    def evaluations(self, name: str, version: int) -> list[dict[str, Any]]:
        """Every judgement of `name` `version` against its contract, oldest first, from its
        `ModelEvaluated` events (what `evaluate` recorded: value, verdict, period, who, when)."""
        with self._uows.read() as uow:
            uow.models.get(name, version)  # the not-found sentence
        return [
            {
                **{key: value for key, value in event.payload.items() if key != "name"},
                "evaluated_at": event.occurred_at,
                "evaluated_by": event.actor,
                "event_seq": event.seq,
            }
            for event in self._model_events(name)
            if event.type == "ModelEvaluated" and event.payload["version"] == version
        ]

    def override_shares(self, period: str = "month") -> OverrideShares:
        """Every model's production promotions per calendar `period` (month, quarter or year)
        and over its whole history: how many by evidence (of Lucid or external origin), how
        many by override, and the override share in percent (`lucid.contracts.override_share`).
        """
        cut = check_period(period)
        streams = [self._typed_events(kind) for kind in TALLIED_TYPES]
        return tally_promotions(merge(*streams, key=lambda event: event.seq), cut)

    def _model_events(self, name: str) -> Iterator[RecordedEvent]:
        return self._pages(subject=str(model_subject(name)))

    def _typed_events(self, kind: str) -> Iterator[RecordedEvent]:
        return self._pages(type=kind)

    def _pages(
        self, *, subject: str | None = None, type: str | None = None
    ) -> Iterator[RecordedEvent]:
        after = 0
        while True:
            page = self._events.read(subject=subject, type=type, after=after, limit=1000)
            yield from page
            if len(page) < 1000:
                return
            after = page[-1].seq
