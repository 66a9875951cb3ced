"""XGBoost and LightGBM native model files (H1 builds it)."""

from __future__ import annotations

from typing import Any

from lucid.registry.flavours import PreparedArtifact, Runner


def prepare_xgboost(path: Any) -> PreparedArtifact:
    raise NotImplementedError("built by its helper")


def prepare_lightgbm(path: Any) -> PreparedArtifact:
    raise NotImplementedError("built by its helper")


def load_xgboost(data: bytes, location: str, allow_pickle: bool) -> Runner:
    raise NotImplementedError("built by its helper")


def load_lightgbm(data: bytes, location: str, allow_pickle: bool) -> Runner:
    raise NotImplementedError("built by its helper")
