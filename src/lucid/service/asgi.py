"""The ASGI factory uvicorn workers call: the project comes from `$LUCID_PROJECT`."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from lucid.service.app import create_app
from lucid.settings import find_project


def app() -> FastAPI:
    """The service of the project named by `$LUCID_PROJECT` (or the current folder)."""
    return create_app(find_project(None, Path.cwd(), os.environ), os.environ)
