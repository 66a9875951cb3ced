"""A backend's package missing: one sentence naming the extra to install."""

from __future__ import annotations

import pytest

from lucid.errors import ConfigurationError
from lucid.extras import require


def test_an_installed_package_is_imported() -> None:
    require("json", "none", "anything")


def test_a_missing_package_names_the_extra_to_install() -> None:
    with pytest.raises(ConfigurationError) as raised:
        require("lucid_no_such_backend", "spark", "engine: spark")
    assert raised.value.sentence == (
        "engine: spark needs the lucid_no_such_backend package, which is not installed: "
        "pip install 'lucidml[spark]'"
    )
    assert raised.value.__cause__ is None
    assert raised.value.exit_code == ConfigurationError.exit_code


def test_a_package_whose_own_dependency_is_missing_names_the_extra_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyspark installed without py4j fails on a module other than the one asked for.
    def broken(name: str) -> None:
        raise ModuleNotFoundError(f"No module named 'py4j' (importing {name})", name="py4j")

    monkeypatch.setattr("lucid.extras.importlib.import_module", broken)
    with pytest.raises(ConfigurationError, match=r"pip install 'lucidml\[spark\]'"):
        require("pyspark", "spark", "engine: spark")


def test_a_broken_package_is_not_blamed_on_a_missing_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(name: str) -> None:
        raise ImportError(f"cannot import name 'x' from partially initialised {name}")

    monkeypatch.setattr("lucid.extras.importlib.import_module", broken)
    with pytest.raises(ImportError, match="partially initialised"):
        require("redis", "redis", "a Redis online_store_url")
