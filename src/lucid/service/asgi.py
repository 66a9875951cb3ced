"""The ASGI factory uvicorn workers call: the project comes from `$LUCID_PROJECT`, and a
worker started by `lucid serve` ends with the supervisor named by `$LUCID_SUPERVISOR_PID`."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from lucid.project_folder import find_project
from lucid.service.app import create_app
from lucid.settings import SUPERVISOR_ENV
from lucid.supervision import exit_with_supervisor


def app() -> FastAPI:
    """The service of the project named by `$LUCID_PROJECT` (or the current folder)."""
    if os.environ.get(SUPERVISOR_ENV):
        exit_with_supervisor(int(os.environ[SUPERVISOR_ENV]))
    return create_app(find_project(None, Path.cwd(), os.environ), os.environ)
