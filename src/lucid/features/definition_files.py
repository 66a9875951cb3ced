"""Reading sources and feature definitions from YAML files (a file or a folder of them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lucid.contracts.names import refuse_all, refuse_unknown_keys
from lucid.contracts.semantic import FeatureDefinition, Source
from lucid.errors import InvalidInput, LucidError

T = TypeVar("T")


@dataclass
class DefinitionSet:
    """What one or more definition files declare."""

    sources: list[Source] = field(default_factory=list)
    features: list[FeatureDefinition] = field(default_factory=list)


def load_definitions(path: Path) -> DefinitionSet:
    """Read `path` (a YAML file, or a folder of `*.yaml`/`*.yml` files, read in name order).

    Every source and feature is read, so that one refusal names every problem of every file.
    """
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise InvalidInput("PATH", f"{path} holds no .yaml or .yml file")
    elif path.is_file():
        files = [path]
    else:
        raise InvalidInput("PATH", f"{path} does not exist")
    result = DefinitionSet()
    problems: list[InvalidInput] = []
    for file in files:
        _load_file(file, result, problems)
    refuse_all(problems, str(path))
    return result


def _load_file(file: Path, into: DefinitionSet, problems: list[InvalidInput]) -> None:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        problems.append(InvalidInput(str(file), f"is not valid YAML: {error}"))
        return
    if not isinstance(data, dict):
        problems.append(
            InvalidInput(str(file), "must be a mapping with `sources:` and/or `features:`")
        )
        return
    try:
        refuse_unknown_keys(data, {"sources", "features"}, str(file))
    except InvalidInput as error:
        problems.append(error)
    into.sources.extend(_read_items(file, data, "sources", Source.from_dict, problems))
    into.features.extend(_read_items(file, data, "features", FeatureDefinition.from_dict, problems))


def _read_items(
    file: Path,
    data: dict[str, Any],
    section: str,
    read: Callable[[dict[str, Any]], T],
    problems: list[InvalidInput],
) -> list[T]:
    items = data.get(section) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        problems.append(InvalidInput(f"{file}: {section}", "must be a list of mappings"))
        return []
    read_items: list[T] = []
    for item in items:
        try:
            read_items.append(read(item))
        except LucidError as error:
            problems.append(_in_file(file, error))
    return read_items


def _in_file(file: Path, error: LucidError) -> InvalidInput:
    if isinstance(error, InvalidInput):
        return InvalidInput(f"{file}: {error.field}", error.rule)
    return InvalidInput(str(file), error.sentence)
