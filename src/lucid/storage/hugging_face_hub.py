"""Whether a Hugging Face Hub model can be used (the seed's `isAvailable`), and the files of its
snapshot, through huggingface_hub.

Offline (`HF_HUB_OFFLINE=1`), a model is available when a complete snapshot is in the local
Hub cache. Online, when the Hub answers for it. A model that is absent, private, gated or
unreachable is unavailable, and the reason is kept for the refusal sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lucid.extras import require


@dataclass(frozen=True, slots=True)
class HubAvailability:
    """The answer for one model id: available or not, and why in a few words."""

    available: bool
    reason: str


class HuggingFaceHub:
    """The Hub as seen from this machine: offline through its cache, online through its API."""

    def __init__(
        self,
        *,
        offline: bool,
        cache_dir: Path | None = None,
        timeout: float = 10.0,
        endpoint: str | None = None,
    ) -> None:
        self.offline = offline
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.endpoint = endpoint

    def availability(self, model_id: str) -> HubAvailability:
        require("huggingface_hub", "hub", "a Hugging Face Hub model")
        from huggingface_hub import HfApi, snapshot_download
        from huggingface_hub.errors import (
            GatedRepoError,
            HFValidationError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
        )

        if self.offline:
            try:
                folder = snapshot_download(
                    model_id, cache_dir=self.cache_dir, local_files_only=True
                )
            except HFValidationError as error:
                return HubAvailability(False, f"the id is not a Hub model id ({error})")
            except (LocalEntryNotFoundError, FileNotFoundError):
                where = self.cache_dir or "the default cache"
                return HubAvailability(
                    False,
                    f"it is not in the local Hugging Face cache ({where}) and the Hub is offline",
                )
            return HubAvailability(True, f"found in the local cache at {folder}")
        try:
            info = HfApi(endpoint=self.endpoint).model_info(model_id, timeout=self.timeout)
        except HFValidationError as error:
            return HubAvailability(False, f"the id is not a Hub model id ({error})")
        except GatedRepoError:
            return HubAvailability(False, "it is gated on the Hub and this machine has no access")
        except RepositoryNotFoundError:
            return HubAvailability(False, "the Hub has no such model (or it is private)")
        except Exception as error:  # any network failure: the Hub is unreachable
            return HubAvailability(
                False, f"the Hub is unreachable ({type(error).__name__}: {error})"
            )
        return HubAvailability(True, f"the Hub lists it at revision {info.sha}")

    def snapshot(self, model_id: str, patterns: Sequence[str]) -> Path:
        """The snapshot folder holding the model's files that match `patterns`: from the local
        cache when offline, else downloaded (only those files) into it."""
        require("huggingface_hub", "hub", "a Hugging Face Hub model")
        from huggingface_hub import snapshot_download

        folder = snapshot_download(
            model_id,
            cache_dir=self.cache_dir,
            allow_patterns=list(patterns),
            local_files_only=self.offline,
            endpoint=self.endpoint,
            etag_timeout=self.timeout,
        )
        return Path(folder)
