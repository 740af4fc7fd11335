"""Equality indexes for the TinyDB store's queries, kept per process.

A ``find(customer_id=...)`` used to scan the whole table: 7 ms at 10 000
documents, five times per sign-up. A :class:`TableIndex` maps a field's value
to the ids of the documents holding it, for each field a query has asked for,
and each id to its insertion position, so that results keep the table's order.

Like the tables they index, indexes are never changed once other threads can
see them (except for adding the index of a field not asked for before):
:meth:`TableIndex.after` derives the index of the next committed version of a
table from what the commit changed, copying only the buckets it changes.
Values that cannot be dictionary keys (objects, lists) are never indexed, nor
are values shared by a crowd of documents (``kind="mail"``, ``key=None``):
keeping such a bucket up to date would cost more than the scans it saves, and
queries pair them with a selective field anyway. A query with nothing indexed
scans.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from app.store.base import Document

Key = tuple[type, Any]
"""A value as an index key: its type is part of it, since ``1 == True`` but a query
for ``True`` must not find ``1`` (:func:`app.store.values.is_exactly`)."""

_MISSING = object()

CROWD = 256
"""A bucket is too crowded to keep beyond this many ids (or a 16th of its table)."""


def key_of(value: Any) -> Key | None:
    """``value`` as an index key, ``None`` if it cannot be one."""
    if isinstance(value, (dict, list)) or value is _MISSING:
        return None
    return (type(value), value)


class _Positions:
    """Insertion positions of a table's ids, shared by all versions of the table.

    Only ever added to, so sharing is safe: a version only asks for the ids it
    holds, whose positions never change. (A document deleted and inserted
    again moves to the end; the store builds that table's index anew.) The
    ids of deleted documents stay until the file is next parsed.
    """

    def __init__(self, table: Mapping[str, Document]) -> None:
        self.of = {id: position for position, id in enumerate(table)}
        self._next = itertools.count(len(self.of))  # next() is atomic

    def add(self, ids: Iterable[str]) -> None:
        for id in ids:
            self.of[id] = next(self._next)


class _FieldIndex:
    """One field's buckets, and the keys too crowded to have one."""

    def __init__(
        self, buckets: dict[Key, frozenset[str]], crowded: frozenset[Key], limit: int
    ) -> None:
        self.buckets = buckets
        self.crowded = crowded
        self.limit = limit  # a bucket growing past it becomes crowded

    @classmethod
    def of(cls, table: Mapping[str, Document], field: str) -> _FieldIndex:
        ids: dict[Key, set[str]] = {}
        for id, document in table.items():
            key = key_of(document.get(field, _MISSING))
            if key is not None:
                ids.setdefault(key, set()).add(id)
        limit = max(CROWD, len(table) // 16)
        crowded = frozenset(key for key, members in ids.items() if len(members) > limit)
        buckets = {key: frozenset(m) for key, m in ids.items() if key not in crowded}
        return cls(buckets, crowded, limit)

    def ids(self, key: Key) -> frozenset[str] | None:
        if key in self.crowded:
            return None
        return self.buckets.get(key, frozenset())

    def after(
        self,
        field: str,
        before: Mapping[str, Document],
        after: Mapping[str, Document],
        changed: list[str],
    ) -> _FieldIndex:
        """This index with the ``changed`` documents under their keys in ``after``."""
        leaving: dict[Key, set[str]] = {}
        arriving: dict[Key, set[str]] = {}
        for id in changed:
            old = key_of(before[id].get(field, _MISSING)) if id in before else None
            new = key_of(after[id].get(field, _MISSING)) if id in after else None
            if old != new:
                if old is not None and old not in self.crowded:
                    leaving.setdefault(old, set()).add(id)
                if new is not None and new not in self.crowded:
                    arriving.setdefault(new, set()).add(id)
        if not leaving and not arriving:
            return self
        buckets, crowded = dict(self.buckets), set(self.crowded)
        for key in leaving.keys() | arriving.keys():
            members = buckets.get(key, frozenset()) - leaving.get(key, set())
            members |= arriving.get(key, set())
            buckets.pop(key, None)
            if len(members) > self.limit:
                crowded.add(key)
            elif members:
                buckets[key] = frozenset(members)
        return _FieldIndex(buckets, frozenset(crowded), self.limit)


class TableIndex:
    """The indexes of one version of one table."""

    def __init__(self, positions: _Positions) -> None:
        self._positions = positions
        self._fields: dict[str, _FieldIndex] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, table: Mapping[str, Document]) -> TableIndex:
        return cls(_Positions(table))

    def ids(self, table: Mapping[str, Document], field: str, key: Key) -> frozenset[str] | None:
        """The ids of the documents of ``table`` (the version indexed) whose ``field``
        has key ``key``; ``None`` if the key is too crowded to be indexed."""
        with self._lock:
            index = self._fields.get(field)
            if index is None:
                index = self._fields[field] = _FieldIndex.of(table, field)
        return index.ids(key)

    def position(self, id: str) -> int:
        return self._positions.of[id]

    def after(
        self,
        before: Mapping[str, Document],
        after: Mapping[str, Document],
        changed: Iterable[str],
    ) -> TableIndex:
        """The index of table version ``after``, which differs from ``before`` (the
        version indexed) in the documents with the ids ``changed``."""
        changed = list(changed)
        self._positions.add(id for id in changed if id in after and id not in before)
        derived = TableIndex(self._positions)
        with self._lock:
            fields = dict(self._fields)
        for field, index in fields.items():
            derived._fields[field] = index.after(field, before, after, changed)
        return derived
