"""Which types a skops file may construct, and loading one only when it names no other.

skops stores an object as a tree of types and values; loading constructs each type, so a type
that does something when constructed (a file opener, a shell call) would run. skops trusts
its primitives and containers, scikit-learn's public estimators and NumPy's ufuncs itself;
every other type a file names must be on this allow-list:

- scikit-learn's own classes (estimators, trees, losses, binners), outside its tests and
  dataset loaders, its score functions (`sklearn.feature_selection`, `sklearn.metrics`) and
  `check_array`, and `functools.partial` (the function it binds is checked on its own);
- NumPy's arrays, scalars, dtypes and random generators, and its ufuncs;
- SciPy's sparse matrices and arrays.

A name is checked by what it resolves to (its class, the module that defines it), so a
re-export from another package is refused. Resolving imports the named module of scikit-learn,
NumPy or SciPy — installed code, never the file's.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from lucid.registry.tree_checks import check_trees

_LIBRARIES = ("sklearn", "numpy", "scipy")
_EXCLUDED_MODULES = frozenset(
    {"tests", "testing", "_testing", "conftest", "datasets", "externals", "_build_utils", "f2py"}
)
"""Module path parts never trusted: test helpers (some build and import C code), dataset
loaders (they download and write files), vendored third-party code."""

_SCORE_FUNCTIONS = ("sklearn.feature_selection.", "sklearn.metrics.")
_NAMED = frozenset({"functools.partial", "sklearn.utils.validation.check_array"})
"""Names fitted estimators hold (HistGradientBoosting's categorical preprocessing): a partial
only binds a function skops checks on its own, check_array only validates an array."""


class UntrustedTypes(Exception):
    """A skops file names types that are not on the allow-list (`names`, sorted)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def dumps(estimator: Any) -> bytes:
    """The skops bytes of `estimator` (TypeError or ValueError when skops cannot store it)."""
    data: bytes = _skops().dumps(estimator)
    return data


def untrusted(data: bytes) -> list[str]:
    """The types the skops file `data` names that are not on the allow-list, sorted; raises
    ValueError when `data` is not a readable skops file. Nothing is constructed."""
    try:
        named: list[str] = _skops().get_untrusted_types(data=data)
    except Exception as error:  # a damaged archive or schema: skops raises many kinds
        raise ValueError(f"{type(error).__name__}: {error}") from None
    return [name for name in named if not allowed(name)]


def loads(data: bytes) -> Any:
    """The object of the skops file `data`, constructed only when every type it names is
    allowed (UntrustedTypes otherwise; ValueError when it cannot be read or holds a tree whose
    node table is malformed, `tree_checks`)."""
    sio = _skops()
    refused = untrusted(data)
    if refused:
        raise UntrustedTypes(refused)
    try:
        loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    except Exception as error:  # a damaged archive or schema: skops raises many kinds
        raise ValueError(f"{type(error).__name__}: {error}") from None
    check_trees(loaded)
    return loaded


def _skops() -> Any:
    """skops.io, imported when first needed (it imports scikit-learn)."""
    import skops.io  # type: ignore[import-untyped]

    return skops.io


def allowed(name: str) -> bool:
    """Whether the type or function `module.name` is on the allow-list."""
    if name in _NAMED:
        return True
    module_name, _, attribute = name.rpartition(".")
    parts = module_name.split(".")
    if parts[0] not in _LIBRARIES or _EXCLUDED_MODULES.intersection(parts):
        return False
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except Exception:  # not importable or not there: nothing to trust
        return False
    home = str(getattr(found, "__module__", None) or "")
    if _EXCLUDED_MODULES.intersection(home.split(".")):
        return False
    if isinstance(found, type):
        return _allowed_class(found, home)
    import numpy as np

    if isinstance(found, np.ufunc):
        return True
    return inspect.isfunction(found) and home.startswith(_SCORE_FUNCTIONS)


def _allowed_class(cls: type, home: str) -> bool:
    import numpy as np

    if home.startswith("sklearn."):
        return True
    if home == "numpy" or home.startswith("numpy."):
        return (
            cls in (np.ndarray, np.ma.MaskedArray)
            or issubclass(cls, np.generic | np.dtype)
            or home.startswith("numpy.random.")
        )
    if home.startswith("scipy.sparse."):
        import scipy.sparse

        return issubclass(cls, scipy.sparse.spmatrix | scipy.sparse.sparray)
    return False
