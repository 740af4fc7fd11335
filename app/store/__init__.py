"""Storage: the store interface and the factory that picks an implementation."""

from __future__ import annotations

from pathlib import Path

from app.store.base import (
    COLLECTIONS,
    Collection,
    Document,
    DuplicateId,
    LockTimeout,
    NotFound,
    ReadCollection,
    ReadTransaction,
    Store,
    StoreError,
    UnknownCollection,
    WriteTransaction,
)
from app.store.files import CorruptData
from app.store.tinydb_store import TinyDBStore

__all__ = [
    "COLLECTIONS",
    "Collection",
    "CorruptData",
    "Document",
    "DuplicateId",
    "LockTimeout",
    "NotFound",
    "ReadCollection",
    "ReadTransaction",
    "Store",
    "StoreError",
    "TinyDBStore",
    "UnknownCollection",
    "WriteTransaction",
    "open_store",
]


def open_store(url: str, data_dir: Path) -> Store:
    """The store named by ``PORTICO_STORE``: ``tinydb`` (the default, also when empty)
    keeps one file per merchant in ``data_dir``; a ``postgresql://`` URL (libpq's
    connection URI) selects :class:`~app.store.postgres.PostgresStore`."""
    if url in ("", "tinydb"):
        return TinyDBStore(data_dir)
    if url.startswith(("postgresql://", "postgres://")):
        from app.store.postgres import PostgresStore  # psycopg loads only when it is used

        return PostgresStore(url)
    # Only the scheme: the rest of a URL may hold a password.
    scheme = url.partition(":")[0]
    raise StoreError(f"unknown store {scheme!r}: expected 'tinydb' or a postgresql:// URL")
