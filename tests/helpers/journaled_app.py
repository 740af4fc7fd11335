"""Portico as gunicorn loads it, on a TinyDB store that journals every commit.

The store's settings are those of :func:`tests.helpers.stores.journaled_store`: each
commit is appended to the journal and the journal is folded into the data
file whenever it outgrows it, so the load and crash tests drive both paths a
big merchant's commits take, under real workers and real ``kill -9``.
"""

from __future__ import annotations

from flask import Flask

from app.factory import create_app as portico_app
from app.store import TinyDBStore
from tests.helpers.stores import journaled_store


def create_app() -> Flask:
    app = portico_app()
    store = app.extensions["portico"].store
    assert isinstance(store, TinyDBStore)
    like = journaled_store(store.data_dir)
    store.journal_from, store.fold_at = like.journal_from, like.fold_at
    return app
