"""The seams between Lucid's use cases and the outside world, as typing.Protocol classes.

Use cases take these as arguments; `bootstrap` builds the real adapters behind them. Nothing
here imports an adapter. The names below are imported from their modules on first use, so
importing one port does not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lucid.ports.event_log import EventLog
    from lucid.ports.notifier import Notification, Notifier
    from lucid.ports.offline import ColumnKind, ComputeEngine, FeatureCompiler, OfflineEngine
    from lucid.ports.online import OnlineStore, Row, StoredValue
    from lucid.ports.unit_of_work import EventHandler, UnitOfWork, UnitsOfWork

_HOMES = {
    "ColumnKind": "offline",
    "ComputeEngine": "offline",
    "EventHandler": "unit_of_work",
    "EventLog": "event_log",
    "FeatureCompiler": "offline",
    "Notification": "notifier",
    "Notifier": "notifier",
    "OfflineEngine": "offline",
    "OnlineStore": "online",
    "Row": "online",
    "StoredValue": "online",
    "UnitOfWork": "unit_of_work",
    "UnitsOfWork": "unit_of_work",
}

__all__ = [
    "ColumnKind",
    "ComputeEngine",
    "EventHandler",
    "EventLog",
    "FeatureCompiler",
    "Notification",
    "Notifier",
    "OfflineEngine",
    "OnlineStore",
    "Row",
    "StoredValue",
    "UnitOfWork",
    "UnitsOfWork",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"lucid.ports.{_HOMES[name]}"), name)
