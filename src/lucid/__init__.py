"""Lucid: feature store, model registry and drift monitoring bound by three contracts."""

__version__ = "0.1.0"
