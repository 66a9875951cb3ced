"""Reading sources and feature definitions from YAML files (a file or a folder of them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lucid.contracts.semantic import FeatureDefinition, Source
from lucid.errors import InvalidInput, LucidError


@dataclass
class DefinitionSet:
    """What one or more definition files declare."""

    sources: list[Source] = field(default_factory=list)
    features: list[FeatureDefinition] = field(default_factory=list)


def load_definitions(path: Path) -> DefinitionSet:
    """Read `path` (a YAML file, or a folder of `*.yaml`/`*.yml` files, read in name order)."""
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise InvalidInput("PATH", f"{path} holds no .yaml or .yml file")
    elif path.is_file():
        files = [path]
    else:
        raise InvalidInput("PATH", f"{path} does not exist")
    result = DefinitionSet()
    for file in files:
        loaded = _load_file(file)
        result.sources.extend(loaded.sources)
        result.features.extend(loaded.features)
    return result


def _load_file(file: Path) -> DefinitionSet:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InvalidInput(str(file), f"is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise InvalidInput(str(file), "must be a mapping with `sources:` and/or `features:`")
    unknown = sorted(set(data) - {"sources", "features"})
    if unknown:
        raise InvalidInput(f"{file}: {unknown[0]}", "is not a known section (sources, features)")
    try:
        return DefinitionSet(
            sources=[Source.from_dict(item) for item in _items(data, "sources", file)],
            features=[FeatureDefinition.from_dict(item) for item in _items(data, "features", file)],
        )
    except LucidError as error:
        raise (
            type(error)(f"{file}: {error.sentence}")
            if not isinstance(error, InvalidInput)
            else InvalidInput(f"{file}: {error.field}", error.rule)
        ) from None


def _items(data: dict[str, Any], section: str, file: Path) -> list[dict[str, Any]]:
    items = data.get(section) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidInput(f"{file}: {section}", "must be a list of mappings")
    return items
