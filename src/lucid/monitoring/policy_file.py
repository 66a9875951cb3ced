"""Monitoring policies as YAML files: the adapter between a file and `MonitoringPolicy`."""

from __future__ import annotations

from pathlib import Path

import yaml

from lucid.contracts.validity import MonitoringPolicy
from lucid.errors import InvalidInput


def load_policy(path: Path) -> MonitoringPolicy:
    """Read a policy file; a missing file, bad YAML or a bad field is one sentence."""
    if not path.is_file():
        raise InvalidInput("policy", f"file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        first = str(error).strip().splitlines()[0]
        raise InvalidInput("policy", f"file {path} is not valid YAML ({first})") from None
    return MonitoringPolicy.from_mapping(raw)


def dump_policy(policy: MonitoringPolicy) -> str:
    """The YAML text of a policy, readable back by `load_policy`."""
    return yaml.safe_dump(policy.to_mapping(), sort_keys=False)
