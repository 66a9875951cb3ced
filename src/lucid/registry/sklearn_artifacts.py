"""scikit-learn artifacts: stored as skops, a pickle only where the project allows pickles.

- An estimator given in memory is stored as a skops file when every type it holds is on the
  allow-list (`skops_trust`); otherwise, in a project with `allow_pickle: true`, as a joblib
  pickle; otherwise it is refused.
- A file is read for what its bytes are (`artifact_formats`), whatever its name: a skops file
  is loaded only when it names allowed types, and kept only when its trees are well formed
  (`tree_checks`); a pickle or joblib file is refused, before
  anything unpickles it, unless the project allows pickles — and then it is unpickled only
  from the artifact store, after its SHA-256 is checked (`register` defers that check).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from lucid.errors import Conflict, InvalidInput
from lucid.registry import skops_trust
from lucid.registry.artifact_formats import ModelFormat, detect
from lucid.registry.tree_checks import MalformedTree

SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.joblib"

SAFE_FORMATS = (
    "save a scikit-learn model with skops (skops.io.dump) or export it to ONNX, or set "
    "allow_pickle: true in lucid.yaml to accept pickles at the project's own risk"
)
PICKLE_INSTEAD = (
    "export it to ONNX, or set allow_pickle: true in lucid.yaml to store it as a pickle at "
    "the project's own risk"
)


def pickle_refused(what: str) -> InvalidInput:
    """The refusal of a pickle at registration in a project that does not allow pickles."""
    return InvalidInput(
        "artifact",
        f"{what} is a pickle (joblib) file, and a pickle runs code when it is loaded, so this "
        f"project refuses it; {SAFE_FORMATS}",
    )


def untrusted_refused(what: str, names: list[str], instead: str = "") -> InvalidInput:
    """The refusal of a model holding types off the allow-list (`instead`: what to do)."""
    return InvalidInput(
        "artifact",
        f"{what} holds types that are not scikit-learn, NumPy or SciPy types skops may load "
        f"({', '.join(names)}); constructing them could run their code, so it is refused"
        + (f"; {instead}" if instead else ""),
    )


def estimator_bytes(estimator: Any, allow_pickle: bool) -> tuple[bytes, str]:
    """The bytes to store for an in-memory estimator and their file name: skops when every
    type it holds is allowed, else joblib where the project allows pickles."""
    checked_model(estimator)
    what = f"a {type(estimator).__name__}"
    try:
        data = skops_trust.dumps(estimator)
    except Exception as error:  # skops refuses what it cannot store, the object may raise too
        if not allow_pickle:
            raise InvalidInput(
                "artifact", f"{what} cannot be stored as skops ({error}); {PICKLE_INSTEAD}"
            ) from None
        return _pickled(estimator), PICKLE_FILE
    refused = skops_trust.untrusted(data)
    if not refused:
        checked_model(_loaded_skops(data, what))  # it loads as it will be served
        return data, SKOPS_FILE
    if not allow_pickle:
        raise untrusted_refused(what, refused, PICKLE_INSTEAD)
    return _pickled(estimator), PICKLE_FILE


def _pickled(estimator: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    return buffer.getvalue()


def file_bytes(path: Path, data: bytes, allow_pickle: bool) -> tuple[Any, str]:
    """The estimator of a model file and the file name to store it under; the estimator is
    None for a pickle, which is unpickled only once stored (`load`)."""
    found = detect(data)
    if found is ModelFormat.SKOPS:
        return checked_model(_loaded_skops(data, str(path)), str(path)), SKOPS_FILE
    if found is ModelFormat.PICKLE:
        if not allow_pickle:
            raise pickle_refused(str(path))
        return None, PICKLE_FILE
    raise InvalidInput(
        "artifact", f"{path} is neither a skops file nor a pickle (joblib) file of a model"
    )


def checked_model(estimator: Any, source: str | None = None) -> Any:
    """`estimator`, refused when it has no predict method (`source`: the file it came from)."""
    if not callable(getattr(estimator, "predict", None)):
        name = type(estimator).__name__
        what = f"a {name}" if source is None else f"{source} holds a {name}, which"
        raise InvalidInput("artifact", f"{what} has no predict method; it is not a model")
    return estimator


def load(data: bytes, location: str, allow_pickle: bool) -> Any:
    """The estimator stored at `location` (its hash already checked): skops with allowed
    types, or a pickle where the project allows pickles; refused with a sentence otherwise."""
    found = detect(data)
    if found is ModelFormat.SKOPS:
        try:
            return skops_trust.loads(data)
        except skops_trust.UntrustedTypes as error:
            raise Conflict(
                f"The artifact {location} holds types skops may not load ({error}); it is refused."
            ) from None
        except MalformedTree as error:
            raise Conflict(f"The artifact {location} holds a malformed tree ({error}).") from None
        except ValueError as error:
            raise Conflict(
                f"The artifact {location} is not a readable skops file ({error})."
            ) from None
    if found is ModelFormat.PICKLE:
        if not allow_pickle:
            raise Conflict(
                f"The artifact {location} is a pickle, which runs code when it is loaded, and "
                "this project does not set allow_pickle: true, so it is not loaded; register "
                "the model again as skops or ONNX."
            )
        import joblib

        try:
            return joblib.load(io.BytesIO(data))
        except Exception as error:  # unpickling raises whatever the pickle's code raises
            raise Conflict(
                f"The artifact {location} could not be unpickled ({type(error).__name__})."
            ) from None
    raise Conflict(f"The artifact {location} is neither a skops file nor a pickle of a model.")


def _loaded_skops(data: bytes, what: str) -> Any:
    try:
        return skops_trust.loads(data)
    except skops_trust.UntrustedTypes as error:
        raise untrusted_refused(what, error.names) from None
    except MalformedTree as error:
        raise InvalidInput(
            "artifact", f"{what} holds a malformed tree ({error}); it is refused"
        ) from None
    except ValueError as error:
        raise InvalidInput("artifact", f"{what} is not a readable skops file ({error})") from None
