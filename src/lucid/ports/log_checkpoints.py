"""The seams of log checkpoints: the place statements go, and the state tables read as the
event log's fold gives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from lucid.contracts.log_checkpoints import ListedCheckpoint, PublicKey, SignedCheckpoint
from lucid.contracts.log_state import LogState


class CheckpointPlace(Protocol):
    """A file, folder or webhook that only ever gains statements."""

    @property
    def kind(self) -> str:
        """file, folder or webhook."""
        ...

    def append(self, signed: SignedCheckpoint) -> None: ...

    def read(self) -> list[ListedCheckpoint]: ...

    def public_keys(self) -> list[PublicKey]: ...

    def keep_public_key(self, key: PublicKey) -> None: ...


StoredState = Callable[[], tuple[int, LogState]]
"""The position of the last event and the state tables at that moment, read together."""
