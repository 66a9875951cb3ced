"""Golden examples: each definition's small input → expected-output cases, computed over the
example's own events (by the `FeatureCompiler`, whatever the configured engine) and through an
online store round trip, so that they check the definition — not the data lake."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from lucid.contracts.semantic.definition import FeatureDefinition
from lucid.contracts.semantic.examples import values_match
from lucid.contracts.semantic.sources import Source
from lucid.contracts.times import to_utc
from lucid.ports.offline import FeatureCompiler
from lucid.ports.online import OnlineStore


def example_time(text: str, field: str) -> datetime:
    """An example's time text as an aware UTC datetime (naive text is read as UTC)."""
    return to_utc(text, field)


def run_example_online(
    definition: FeatureDefinition, value: object, at: datetime, store: OnlineStore
) -> object:
    """The value after a write/read round trip through `store`."""
    ref = str(definition.ref)
    store.write(ref, [("__example__", value, at.timestamp(), None)])
    stored = store.read(["__example__"], [ref]).get(("__example__", ref), (None, 0.0, None))[0]
    return definition.value_type.coerce(stored)


def example_failures(
    compiler: FeatureCompiler, definition: FeatureDefinition, sources: Mapping[str, Source]
) -> list[str]:
    """A sentence for each golden example the definition does not reproduce."""
    failures = []
    for number, example in enumerate(definition.examples, start=1):
        label = f"golden example {number} of {definition.ref}"
        if example.description:
            label += f" ({example.description})"
        offline = compiler.run_example(definition, sources, example)
        if not values_match(example.expected, offline):
            failures.append(
                f"{label} expects {example.expected!r} for {example.entity} at {example.at} but "
                f"the definition computes {offline!r}"
            )
            continue
        at = example_time(example.at, "at")
        with compiler.scratch_store() as store:
            online = run_example_online(definition, offline, at, store)
        if not values_match(example.expected, online):
            failures.append(f"{label}: the online store returns {online!r}, not {offline!r}")
    return failures
