"""The TinyDB store: one TinyDB file per merchant, safe for many threads and workers.

TinyDB is not safe across threads or processes, and its JSON storage rewrites
the file in place. We keep TinyDB's tables and queries and make them safe
through TinyDB's own extension points:

- every transaction gets a fresh ``TinyDB`` over a :class:`_MemoryStorage`, so
  no query cache or next-id cache outlives a transaction;
- a write transaction holds ``<merchant>.json.lock`` (filelock) from reading
  the data to committing it; its TinyDB shares the cached tables and copies a
  table, and a document, only when it changes them (copy on write, see
  :class:`_MemoryStorage`), and leaving the block commits once: the file is
  replaced atomically (:mod:`app.store.files`), or, once it is big, what
  changed is appended to its journal (:mod:`app.store.journal`);
- a read transaction takes no lock and reads the per-process cache, which
  another process's commit invalidates (:mod:`app.store.datafiles`);
- documents are keyed by their own ``"id"`` (``document_id_class = str``), so
  a lookup by id is a dict access.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping, ValuesView
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document as TinyDocument
from tinydb.table import Table

from app.store import datafiles, files
from app.store.base import (
    COLLECTIONS,
    Collection,
    Document,
    DuplicateId,
    LockTimeout,
    NotFound,
    ReadCollection,
    ReadTransaction,
    StoreError,
    UnknownCollection,
    WriteTransaction,
)
from app.store.files import Tables
from app.store.indexes import TableIndex, key_of
from app.store.values import (
    MERCHANT_SLUG,
    check_sequence,
    check_slug,
    json_copy,
    json_document,
    plain_query,
)

SEQUENCES = "_sequences"  # next_number's counters: {"id": sequence, "value": last number}

# The lock files each thread holds: taking one again would wait for itself.
_held_locks = threading.local()


class TinyDBStore:
    """The :class:`~app.store.base.Store` kept in ``<data_dir>/<merchant>.json`` files."""

    def __init__(
        self,
        data_dir: Path,
        *,
        lock_timeout: float = 10.0,
        journal_from: int = datafiles.JOURNAL_FROM,
        fold_at: float = datafiles.FOLD_AT,
    ) -> None:
        # Absolute, so the cache key of a file does not depend on the working directory.
        self.data_dir = Path(data_dir).absolute()
        self.lock_timeout = lock_timeout
        # When commits go to the journal and when it is folded in (app.store.datafiles).
        self.journal_from = journal_from
        self.fold_at = fold_at
        self._swept: set[Path] = set()  # files whose crash leftovers this process removed

    def path(self, merchant: str) -> Path:
        """The data file of ``merchant``; :class:`ValueError` unless it is a valid slug."""
        return self.data_dir / f"{check_slug(merchant)}.json"

    @contextmanager
    def read(self, merchant: str) -> Iterator[ReadTransaction]:
        """A snapshot of the merchant's last committed data; takes no lock."""
        storage = _MemoryStorage(datafiles.snapshot(self.path(merchant)))
        yield _ReadTransaction(merchant, _Database(storage=lambda: storage))

    @contextmanager
    def write(self, merchant: str) -> Iterator[WriteTransaction]:
        """All-or-nothing changes, serialised across threads and processes.

        Reads made through another transaction inside this block see the last
        committed data, not this block's changes.
        """
        path = self.path(merchant)
        # Parse a file this process has not read yet before taking the lock: at 100 000
        # customers that takes seconds, which other workers would otherwise wait out.
        # Under the lock only what changed meanwhile is read.
        datafiles.snapshot(path)
        with self._locked(path):
            before = datafiles.snapshot(path)
            storage = _MemoryStorage(before)
            # TinyDB calls its storage argument to build the storage: hand it ours.
            yield _WriteTransaction(merchant, _Database(storage=lambda: storage))
            if storage.changed:
                datafiles.commit(
                    path,
                    before,
                    storage.data,
                    storage.changes(),
                    moved=storage.moved(),
                    journal_from=self.journal_from,
                    fold_at=self.fold_at,
                )

    def merchants(self) -> list[str]:
        """Slugs of the merchants that have a data file, sorted."""
        return sorted(
            path.stem for path in self.data_dir.glob("*.json") if MERCHANT_SLUG.fullmatch(path.stem)
        )

    def backup(self, merchant: str, destination: Path) -> None:
        """Write the merchant's data, journal included, to ``destination`` as one
        TinyDB file, atomically.

        Refuses (:class:`NotFound`) a merchant without data and
        (:class:`~app.store.files.CorruptData`) a file that does not parse, so
        a backup that succeeded can be restored.
        """
        path = self.path(merchant)
        with self._locked(path):
            snapshot = datafiles.snapshot(path)
        if snapshot.identity is None:
            raise NotFound(f"no stored data for merchant {merchant!r}")
        files.atomic_write(Path(destination), orjson.dumps(snapshot.tables))

    def restore(self, merchant: str, source: Path) -> None:
        """Replace the merchant's data with a backup; a source that does not parse
        (:class:`~app.store.files.CorruptData`) changes nothing."""
        path = self.path(merchant)
        data = files.parse(Path(source).read_bytes(), Path(source))
        with self._locked(path):
            datafiles.write_whole(path, data)

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        held: set[Path] = _held_locks.__dict__.setdefault("paths", set())
        if path in held:
            raise StoreError(
                f"{path.name} is already locked by this thread: a write transaction"
                " cannot be nested in another one for the same merchant"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # filelock waits by polling; its default 50 ms between tries added up to 50 ms to
        # a commit whenever another thread or worker held the lock for a millisecond.
        lock = FileLock(f"{path}.lock", timeout=self.lock_timeout, poll_interval=0.002)
        try:
            lock.acquire()
        except Timeout:
            raise LockTimeout(
                f"{path.name} stayed locked by another writer for {self.lock_timeout} s"
            ) from None
        held.add(path)
        if path not in self._swept:
            files.remove_orphans(path)
            self._swept.add(path)
        try:
            yield
        finally:
            held.discard(path)
            lock.release()


class _ReadTransaction:
    """A read-only view of one merchant's data (:class:`~app.store.base.ReadTransaction`)."""

    def __init__(self, merchant: str, database: TinyDB) -> None:
        self.merchant = merchant
        self._database = database

    def collection(self, name: str) -> ReadCollection:
        return _ReadCollection(self._table(name))

    def _table(self, name: str) -> Table:
        if name not in COLLECTIONS:
            raise UnknownCollection(f"unknown collection {name!r}")
        return self._database.table(name)


class _WriteTransaction(_ReadTransaction):
    """One merchant's data inside a write block (:class:`~app.store.base.WriteTransaction`)."""

    def collection(self, name: str) -> Collection:
        return _Collection(self._table(name))

    def next_number(self, sequence: str) -> int:
        check_sequence(sequence)
        counters = self._database.table(SEQUENCES)
        current = counters.get(doc_id=sequence)
        number = 1 if current is None else current["value"] + 1
        counters.upsert(TinyDocument({"id": sequence, "value": number}, doc_id=sequence))
        return number


class _ReadCollection:
    """Queries on one TinyDB table; every document returned is the caller's own copy.

    ``find``, ``first`` and ``count`` look their documents up in the table's
    indexes (:mod:`app.store.indexes`) rather than through TinyDB's ``Query``,
    which evaluates a query through a chain of closures for every document
    and wraps every document it returns: a scan of 10 000 documents took about
    50 ms that way, and a sign-up makes several.
    """

    def __init__(self, table: _Table) -> None:
        self._table = table

    def get(self, id: str) -> Document | None:
        document = self._table.get(doc_id=id)
        return None if document is None else json_copy(document)

    def find(self, **equals: Any) -> list[Document]:
        equals = plain_query(equals)
        return [json_copy(document) for document in self._matching(equals)]

    def first(self, **equals: Any) -> Document | None:
        equals = plain_query(equals)
        document = next(self._matching(equals), None)
        return None if document is None else json_copy(document)

    def count(self, **equals: Any) -> int:
        equals = plain_query(equals)
        if not equals:
            return len(self._table.documents())
        return sum(1 for _ in self._matching(equals))

    def all(self) -> Iterator[Document]:
        return (json_copy(document) for document in self._table.documents())

    def _matching(self, equals: Mapping[str, Any]) -> Iterator[Document]:
        """The stored documents whose fields are exactly (:func:`is_exactly`) ``equals``."""
        wanted = [(field, value, type(value)) for field, value in equals.items()]
        missing = object()
        table = self._table.by_id()
        candidates = self._table.candidates(equals)
        documents = (
            table.values()
            if candidates is None
            else (document for id in candidates if (document := table.get(id)) is not None)
        )
        for document in documents:
            for field, value, kind in wanted:  # is_exactly, inlined: this loop may be a scan
                found = document.get(field, missing)
                if type(found) is not kind or found != value:
                    break
            else:
                yield document


class _Collection(_ReadCollection):
    """A table inside a write transaction."""

    def insert(self, document: Mapping[str, Any]) -> Document:
        stored = json_document(document)
        id = stored.get("id")
        if not isinstance(id, str) or not id:
            raise ValueError(f'a document needs a non-empty string "id", not {id!r}')
        if self._table.contains(doc_id=id):
            raise DuplicateId(f"{self._table.name} already has a document with id {id!r}")
        self._table.insert(TinyDocument(stored, doc_id=id))
        return json_copy(stored)

    def update(self, id: str, changes: Mapping[str, Any]) -> Document:
        fields = json_document(changes)
        if fields.get("id", id) != id:
            raise ValueError(f"the id of {self._table.name} {id!r} cannot change")
        if not self._table.update(fields, doc_ids=[id]):
            raise NotFound(f"{self._table.name} has no document with id {id!r}")
        return json_copy(self._table.get(doc_id=id))

    def delete(self, id: str) -> None:
        if not self._table.remove(doc_ids=[id]):
            raise NotFound(f"{self._table.name} has no document with id {id!r}")


class _MemoryStorage(Storage):
    """A TinyDB storage that only holds one transaction's data in memory.

    It starts from the cached, shared tables of a :class:`~app.store.datafiles.Snapshot`,
    which must never change: a transaction that fails halfway must leave them
    as they were, and read transactions of other threads use them meanwhile.
    So a table's dict is copied (shallowly) on its first change in the
    transaction and a document only when it is changed: a write costs what it
    changes, not the size of the merchant's data. The store decides when and
    whether the result reaches the file.
    """

    def __init__(self, snapshot: datafiles.Snapshot) -> None:
        self.data = dict(snapshot.tables)  # the tables themselves stay shared until changed
        self._snapshot = snapshot
        # table copied → ids of the documents copied, set or deleted (see _TableChanges)
        self._touched: dict[str, dict[str, bool]] = {}

    def read(self) -> Tables:
        return self.data

    def write(self, data: Tables) -> None:
        # Only TinyDB's drop_table(s), which the store never calls, write whole databases.
        raise StoreError("tables change through _Table._update_table only")

    def table_to_change(self, name: str) -> _TableChanges:
        """Table ``name`` for TinyDB to change, as this transaction's own copy."""
        touched = self._touched.get(name)
        if touched is None:
            touched = self._touched[name] = {}
            self.data[name] = dict(self.data.get(name, {}))
        return _TableChanges(self.data[name], touched)

    @property
    def changed(self) -> bool:
        """Whether the transaction took any table to change."""
        return bool(self._touched)

    def candidates(self, name: str, equals: Mapping[str, Any]) -> list[str] | None:
        """Ids in table order of the documents of table ``name`` that may be ``equals``
        (a superset; the caller checks), or ``None`` if the table must be scanned.

        The snapshot's index knows the table as it was committed; documents this
        transaction touched are checked by the caller whatever the index says,
        and those it inserted come last, in the order they were inserted.
        """
        keys = [(field, key) for field, value in equals.items() if (key := key_of(value))]
        if not keys or len(keys) < len(equals):
            return None
        committed = self._snapshot.tables.get(name, {})
        index = self._snapshot.indexes.get(name)
        if index is None:
            index = self._snapshot.indexes.setdefault(name, TableIndex.of(committed))
        indexed = [index.ids(committed, field, key) for field, key in keys]
        ids = min((found for found in indexed if found is not None), key=len, default=None)
        if ids is None:
            return None
        touched = self._touched.get(name, {})
        if touched:
            ids = ids | {id for id, anew in touched.items() if not anew and id in committed}
        ordered = sorted(ids, key=index.position)
        if touched:
            current = self.data.get(name, {})
            ordered = [id for id in ordered if id in current and not touched.get(id)]
            ordered += [id for id, anew in touched.items() if anew]
        return ordered

    def moved(self) -> set[str]:
        """The tables in which a committed document was deleted and inserted again."""
        committed = self._snapshot.tables
        return {
            name
            for name, touched in self._touched.items()
            if any(anew and id in committed.get(name, {}) for id, anew in touched.items())
        }

    def changes(self) -> dict[str, dict[str, Document | None]]:
        """What this transaction changed: table → id → the document now, ``None`` if deleted."""
        return {
            name: {id: self.data[name].get(id) for id in touched}
            for name, touched in self._touched.items()
        }


class _TableChanges(MutableMapping):
    """A table as TinyDB's updaters see it: a document they take out is first
    copied (one level deep), since TinyDB updates a document in place.

    One level is enough: TinyDB only sets a document's top-level keys, and
    nested values come in and go out as copies (:func:`json_copy`). The ids in
    ``touched`` are those of the transaction's own documents (or of documents
    it deleted): what a commit writes. ``True`` marks a document inserted at
    the end of the table (new, or deleted and inserted again); they are kept
    in the order of their insertion.
    """

    def __init__(self, table: dict[str, Document], touched: dict[str, bool]) -> None:
        self._table = table
        self._touched = touched

    def __getitem__(self, id: str) -> Document:
        document = self._table[id]
        if id not in self._touched:
            document = self._table[id] = dict(document)
            self._touched[id] = False
        return document

    def __setitem__(self, id: str, document: Document) -> None:
        if id in self._table:  # replaced where it is
            self._touched.setdefault(id, False)
        else:  # inserted at the end
            self._touched.pop(id, None)
            self._touched[id] = True
        self._table[id] = document

    def __delitem__(self, id: str) -> None:
        del self._table[id]
        self._touched.pop(id, None)
        self._touched[id] = False

    def __contains__(self, id: object) -> bool:
        return id in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


class _Table(Table):
    document_id_class = str

    def documents(self) -> ValuesView[Document]:
        """The stored documents themselves, oldest first: read them, never change them."""
        return self.by_id().values()

    def by_id(self) -> Mapping[str, Document]:
        """The stored documents by id, oldest first: read them, never change them."""
        return self._storage.read().get(self.name, {})

    def candidates(self, equals: Mapping[str, Any]) -> list[str] | None:
        """See :meth:`_MemoryStorage.candidates`."""
        return self._storage.candidates(self.name, equals)

    def _update_table(self, updater: Callable[[dict[str, Mapping]], None]) -> None:
        """Change the transaction's copy of the table instead of rebuilding it twice.

        TinyDB's own version copies the whole table before and after every
        insert, update or delete (to convert ids), which made a write
        transaction that adds to a table of n documents cost O(n) per change:
        a sign-up in a store of 10 000 customers took many times one in 100.
        Our ids are already ``str``, and :meth:`_MemoryStorage.changes` hands
        out a copy-on-write view of the table, so changing it in place is safe.
        """
        updater(self._storage.table_to_change(self.name))
        self.clear_cache()


class _Database(TinyDB):
    table_class = _Table
