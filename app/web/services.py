"""The current app's service container, for views: ``portico().billing``."""

from __future__ import annotations

from flask import current_app

from app.container import Portico


def portico() -> Portico:
    return current_app.extensions["portico"]
