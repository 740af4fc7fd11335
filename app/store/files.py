"""Merchant data files: atomic replacement, parsing, and the version of a file.

A data file is never changed in place. Every version is written to a temporary
file in the same folder, fsynced and moved over the old one with ``os.replace``,
so a reader (which takes no lock) sees either the old or the new file, never a
mix, and a ``kill -9`` at any moment leaves one of the two.

Because every version is a new file, ``(st_ino, st_size, st_mtime_ns)`` tells
whether a file changed since we parsed it. Inode numbers are reused at once
on ext4 (two alternating versions may get the same two inodes), so that key is
sound only if the modification time of successive versions differs:
:func:`atomic_write` stamps each version strictly later than the one it
replaces.

A file the store wrote also names its version, a random token in the table
``_journal``: the journal of commits made since (:mod:`app.store.journal`)
names the version it continues. The table is metadata, never one of the
store's collections, and :func:`parse` takes it out.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson

from app.store.base import Document, StoreError

Tables = dict[str, dict[str, Document]]
"""A TinyDB database as stored: table name → document id → document."""

Identity = tuple[int, int, int]

VERSION_TABLE = "_journal"  # {"base": {"id": "base", "version": token}}


class CorruptData(StoreError):
    """A data file (or a backup) is not a valid TinyDB database of this store."""


def parse(raw: bytes, path: Path) -> Tables:
    """Parse and check a data file; :class:`CorruptData` naming ``path`` if it is not one."""
    return parse_versioned(raw, path)[0]


def parse_versioned(raw: bytes, path: Path) -> tuple[Tables, str | None]:
    """:func:`parse`, and the version the file names (``None`` if it names none)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptData(f"{path} is not valid JSON: {exc}") from exc
    problem = shape_problem(data)
    if problem:
        raise CorruptData(f"{path} is not a TinyDB database of this store: {problem}")
    version = data.pop(VERSION_TABLE, {}).get("base", {}).get("version")
    return data, version if isinstance(version, str) else None


def dump_versioned(tables: Tables) -> tuple[bytes, str]:
    """``tables`` as the content of a data file with a new version, and that version."""
    version = secrets.token_hex(8)
    meta = {"base": {"id": "base", "version": version}}
    return orjson.dumps({**tables, VERSION_TABLE: meta}), version


def atomic_write(path: Path, raw: bytes) -> Identity:
    """Write ``raw`` to ``path`` through a fsynced temporary file and ``os.replace``.

    Returns the identity of the new file. Its modification time is later than
    that of the file it replaces, even within one clock tick (see the module
    docstring).
    """
    mtime_ns = max(time.time_ns(), _mtime_ns(path) + 1)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "wb") as file:
            file.write(raw)
            file.flush()
            os.utime(fd, ns=(mtime_ns, mtime_ns))
            os.fsync(fd)
            identity = identity_of(os.fstat(fd))
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)
    return identity


def remove_orphans(path: Path) -> None:
    """Delete temporary files of ``path`` that a writer killed mid-write left behind.

    The caller must hold the file's write lock: then no temporary file of it
    belongs to a live writer.
    """
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        with suppress(FileNotFoundError):
            orphan.unlink()


def identity_of(stat: os.stat_result) -> Identity:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable: it is recorded in the directory, not the file."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def shape_problem(data: Any, *, deleted_allowed: bool = False) -> str | None:
    """What keeps ``data`` from being ``{table: {id: {"id": id, ...}}}``, or ``None``.

    With ``deleted_allowed`` a document may also be ``None`` (a journal's deletion).
    """
    if not isinstance(data, dict):
        return "the top level is not an object"
    for table_name, table in data.items():
        if not isinstance(table, dict):
            return f"table {table_name!r} is not an object"
        for doc_id, document in table.items():
            if document is None and deleted_allowed:
                continue
            if not isinstance(document, dict) or document.get("id") != doc_id:
                return f'{table_name}[{doc_id!r}] is not an object with a matching "id"'
    return None
