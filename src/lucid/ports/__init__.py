"""The seams between Lucid's use cases and the outside world, as typing.Protocol classes.

Use cases take these as arguments; `bootstrap` builds the real adapters behind them. Nothing
here imports an adapter.
"""

from lucid.ports.event_log import EventLog
from lucid.ports.notifier import Notification, Notifier
from lucid.ports.offline import ColumnKind, ComputeEngine, FeatureCompiler, OfflineEngine
from lucid.ports.online import OnlineStore, Row, StoredValue
from lucid.ports.unit_of_work import EventHandler, UnitOfWork, UnitsOfWork

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
