"""The optional backends of lucidml: each one's package, or the `pip install` that brings it.

The core install runs the embedded default (SQLite, DuckDB, local files). Spark, PostgreSQL,
Redis and the Hugging Face Hub come with the extras `spark`, `postgres`, `redis` and `hub`;
a backend used without its extra is a configuration error whose sentence names the command.
"""

from __future__ import annotations

import importlib

from lucid.errors import ConfigurationError


def require(module: str, extra: str, purpose: str) -> None:
    """Import `module` (the backend's package), or say which extra of lucidml installs it.

    `purpose` names what needs it as a person configured it, e.g. "engine: spark".
    """
    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        raise ConfigurationError(
            f"{purpose} needs the {module} package, which is not installed: "
            f"pip install 'lucidml[{extra}]'"
        ) from None
