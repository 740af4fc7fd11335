"""Merchant data files: atomic replacement and a per-process cache of their parsed content.

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
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson

from app.store.base import Document, StoreError

Tables = dict[str, dict[str, Document]]
"""A TinyDB database as stored: table name → document id → document."""

Identity = tuple[int, int, int]


class CorruptData(StoreError):
    """A data file (or a backup) is not a valid TinyDB database of this store."""


_cache: dict[Path, tuple[Identity, Tables]] = {}
_cache_lock = threading.Lock()


def load(path: Path) -> Tables:
    """The parsed content of ``path``; ``{}`` when the file does not exist.

    The result is shared with every other caller in this process: treat it as
    read-only and copy what you change. A file is parsed again only when its
    identity changed.
    """
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return {}
    with file:
        # The identity of the open file, not of the path: another process may
        # replace the path between our stat and our read.
        identity = _identity(os.fstat(file.fileno()))
        with _cache_lock:
            cached = _cache.get(path)
        if cached is not None and cached[0] == identity:
            return cached[1]
        data = parse(file.read(), path)
    _remember(path, identity, data)
    return data


def save(path: Path, data: Tables) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    The caller must hold the file's write lock and must not change ``data``
    afterwards: it becomes this process's cached content of the file.
    """
    _remember(path, atomic_write(path, orjson.dumps(data)), data)


def parse(raw: bytes, path: Path) -> Tables:
    """Parse and check a data file; :class:`CorruptData` naming ``path`` if it is not one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptData(f"{path} is not valid JSON: {exc}") from exc
    problem = _shape_problem(data)
    if problem:
        raise CorruptData(f"{path} is not a TinyDB database of this store: {problem}")
    return data


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
            identity = _identity(os.fstat(fd))
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


def _remember(path: Path, identity: Identity, data: Tables) -> None:
    with _cache_lock:
        _cache[path] = (identity, data)


def _identity(stat: os.stat_result) -> Identity:
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


def _shape_problem(data: Any) -> str | None:
    """What keeps ``data`` from being ``{table: {id: {"id": id, ...}}}``, or ``None``."""
    if not isinstance(data, dict):
        return "the top level is not an object"
    for table_name, table in data.items():
        if not isinstance(table, dict):
            return f"table {table_name!r} is not an object"
        for doc_id, document in table.items():
            if not isinstance(document, dict) or document.get("id") != doc_id:
                return f'{table_name}[{doc_id!r}] is not an object with a matching "id"'
    return None
