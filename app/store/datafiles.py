"""A merchant's data as this process last read it: the data file plus its journal.

:func:`snapshot` returns the committed data of ``<merchant>.json`` and its
journal (:mod:`app.store.journal`), from a per-process cache that is shared
by every caller and must never be changed. An unchanged data file is not
parsed again; a journal that grew is read only from where this process
stopped reading it.

:func:`commit` makes a write transaction's result durable: small data files
are written whole, as always; from :data:`JOURNAL_FROM` bytes on, a commit is
appended to the journal, until the journal has grown to a quarter
(:data:`FOLD_AT`) of the data file and is folded into it.

A reader takes no lock, so it opens the journal *before* the data file: a
fold that happens in between replaces the data file with one that already
holds the journal's commits and a newer version, so the journal it opened no
longer matches and is ignored; a fold after both are open leaves it reading
the old pair, which is consistent too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from app.store import files, journal
from app.store.files import Identity, Tables
from app.store.indexes import TableIndex

JOURNAL_FROM = 4 * 1024 * 1024
"""From this size (data file and journal together) on, commits go to the journal.
Below it a data file is cheap to write whole: about 600 sign-ups."""

FOLD_AT = 0.25
"""The journal is folded into the data file when it is larger than this share of it."""


@dataclass(frozen=True)
class Snapshot:
    """One merchant's committed data, and which bytes of which files it came from."""

    tables: Tables
    version: str | None = None  # of the data file; None: no journal can continue it
    identity: Identity | None = None  # of the data file; None: there is none
    journal_inode: int | None = None  # of the journal read; None: none matches the file
    journal_end: int = 0  # how far it was read
    # The indexes of its tables that queries asked for (app.store.indexes); queries add
    # to it, commits derive the next version's.
    indexes: dict[str, TableIndex] = field(default_factory=dict)

    def changed(
        self,
        tables: Tables,
        changes: journal.Changes,
        *,
        journal_inode: int | None = None,
        journal_end: int | None = None,
    ) -> Snapshot:
        """This snapshot after ``changes``, which made ``tables`` of its tables; a commit
        appended to the journal also says how far the journal now reaches."""
        built = list(self.indexes.items())  # a copy: queries in other threads add to it
        indexes = {
            name: index.after(self.tables.get(name, {}), tables.get(name, {}), changes[name])
            if name in changes
            else index
            for name, index in built
        }
        if journal_end is None:
            return replace(self, tables=tables, indexes=indexes)
        return replace(
            self,
            tables=tables,
            indexes=indexes,
            journal_inode=journal_inode,
            journal_end=journal_end,
        )


_cache: dict[Path, Snapshot] = {}
_cache_lock = threading.Lock()


def journal_path(path: Path) -> Path:
    """Where the journal of data file ``path`` lives."""
    return path.with_name(f"{path.name}.journal")


def load(path: Path) -> Tables:
    """The committed tables of data file ``path`` (``{}`` if there is none): shared, read-only."""
    return snapshot(path).tables


def snapshot(path: Path) -> Snapshot:
    """The committed data of ``path`` and its journal, parsing only what is new."""
    try:
        journal_file: BinaryIO | None = journal_path(path).open("rb")  # first: module docstring
    except FileNotFoundError:
        journal_file = None
    try:
        current = _data_file(path)
        if journal_file is not None and current.version is not None:
            current = _caught_up(current, journal_file, journal_path(path))
    finally:
        if journal_file is not None:
            journal_file.close()
    if current.identity is not None:
        _remember(path, current)
    return current


def commit(
    path: Path,
    before: Snapshot,
    tables: Tables,
    changes: journal.Changes,
    *,
    moved: Collection[str] = (),
    journal_from: int = JOURNAL_FROM,
    fold_at: float = FOLD_AT,
) -> None:
    """Make ``tables`` the committed data of ``path``, durably.

    ``before`` is the snapshot the transaction started from, taken under the
    data file's write lock, which the caller still holds; ``changes`` is what
    it changed. ``tables`` becomes this process's cached data: never change it.

    ``moved`` names the tables in which a document was deleted and inserted
    again, which moved it to the end. A journal's commit only says what a
    document is now, so such a commit (rare) is written whole, and the moved
    tables' indexes are built again when next asked for.
    """
    record = journal.frame(changes)
    journaled = before.journal_end + len(record)
    file_size = before.identity[1] if before.identity else 0
    if (
        moved
        or before.version is None
        or file_size + journaled < journal_from
        or journaled > file_size * fold_at
    ):
        indexes = before.changed(tables, changes).indexes
        write_whole(path, tables, {k: v for k, v in indexes.items() if k not in moved})
        return
    journal_file = journal_path(path)
    inode, end = before.journal_inode, before.journal_end
    if inode is None:  # no journal continues this data file yet
        inode, end, _ = journal.start(journal_file, before.version)
    end = journal.append(journal_file, end, record)
    _remember(path, before.changed(tables, changes, journal_inode=inode, journal_end=end))


def write_whole(path: Path, tables: Tables, indexes: dict[str, TableIndex] | None = None) -> None:
    """Replace data file ``path`` with ``tables`` under a new version, folding in (and
    then removing) its journal. The caller holds the file's write lock; ``indexes``
    are those of ``tables``, if known."""
    raw, version = files.dump_versioned(tables)
    identity = files.atomic_write(path, raw)
    # Once the new version is in place its old journal matches nothing; a crash
    # before this unlink leaves it to be ignored and replaced by the next writer.
    with suppress(FileNotFoundError):
        os.unlink(journal_path(path))
    _remember(path, Snapshot(tables, version, identity, indexes=indexes or {}))


def _data_file(path: Path) -> Snapshot:
    """The cached snapshot if the data file is the one it came from, else the file parsed."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return Snapshot({})
    with file:
        # The identity of the open file, not of the path: another process may
        # replace the path between our stat and our read.
        identity = files.identity_of(os.fstat(file.fileno()))
        with _cache_lock:
            cached = _cache.get(path)
        if cached is not None and cached.identity == identity:
            return cached
        tables, version = files.parse_versioned(file.read(), path)
    return Snapshot(tables, version, identity)


def _caught_up(current: Snapshot, journal_file: BinaryIO, path: Path) -> Snapshot:
    """``current`` with the commits of the journal it has not read yet."""
    inode = os.fstat(journal_file.fileno()).st_ino
    if inode == current.journal_inode:
        offset = current.journal_end
    else:  # a journal this snapshot has not read from: is it this data file's?
        version, offset = journal.header_version(journal_file)
        if version != current.version:
            return current
    found, end = journal.commits(journal_file, offset, path)
    if end == offset and inode == current.journal_inode:
        return current
    changes = _merged(found)
    return current.changed(
        _applied(current.tables, changes), changes, journal_inode=inode, journal_end=end
    )


def _merged(commits: list[journal.Changes]) -> journal.Changes:
    """One commit doing what ``commits`` did one after the other."""
    merged: journal.Changes = {}
    for changes in commits:
        for name, documents in changes.items():
            merged.setdefault(name, {}).update(documents)
    return merged


def _applied(tables: Tables, changes: journal.Changes) -> Tables:
    """``tables`` after ``changes``, sharing every table (and document) they leave alone."""
    result = dict(tables)
    for name, documents in changes.items():
        table = result[name] = dict(result.get(name, {}))
        for id, document in documents.items():
            if document is None:
                table.pop(id, None)
            else:
                table[id] = document
    return result


def _remember(path: Path, snapshot: Snapshot) -> None:
    with _cache_lock:
        _cache[path] = snapshot
