"""A transaction that answers look-ups by customer and by key from in-memory indexes.

Billing asks the same questions for every subscription it handles: the
customer's invoices and ledger entries, whether a mail, payment or invoice
with an idempotency key exists. On a store whose ``find`` scans a whole
collection (TinyDB), asking them once per subscription made a run quadratic.
:class:`IndexedTransaction` wraps one transaction: the first query by an
indexed field reads the collection once and indexes the ids by field; every
change made through the wrapper keeps the index exact.

One :class:`Indexes` may serve the transactions of a whole run, because
documents are always read again by id from the current transaction and
checked against the query: an index only has to list every candidate. Other
writers may add documents between transactions, so the first use of a
collection's index in a transaction compares its size with the collection's
``count()`` and reads the collection again when they differ. That is exact
because nothing deletes from the collections billing queries by customer or
key (invoices, ledger, payments, outbox, subscriptions are records); after a
rolled-back transaction the caller clears the indexes.
It also keeps the documents inserted and the subscriptions' changes made
through it, so a billing run counts what it did without counting collections.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from app.store import Collection, Document, ReadTransaction, WriteTransaction
from app.store.values import is_exactly, plain_query

INDEXED_FIELDS = ("customer_id", "key")


def _key(value: Any) -> tuple[type, Any]:
    """Index buckets keep ``True`` and ``1`` apart, like the stores' exact equality."""
    return (
        type(value),
        value if isinstance(value, str | int | float | bool | None) else repr(value),
    )


class _Index:
    """Ids by the value of one field, in the collection's order (oldest first)."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.ids: dict[tuple[type, Any], list[str]] = {}
        self.value_of: dict[str, tuple[type, Any]] = {}

    def add(self, document: Mapping[str, Any]) -> None:
        key = _key(document.get(self.field))
        self.ids.setdefault(key, []).append(document["id"])
        self.value_of[document["id"]] = key

    def remove(self, id: str) -> None:
        key = self.value_of.pop(id, None)
        if key is not None:
            self.ids[key].remove(id)


class _IndexedCollection:
    """One collection of an :class:`IndexedTransaction` (reads and, in a write, changes)."""

    def __init__(self, owner: IndexedTransaction, name: str) -> None:
        self._owner = owner
        self._name = name
        self._inner: Any = owner.inner.collection(name)

    # Reads -----------------------------------------------------------------------------

    def get(self, id: str) -> Document | None:
        return self._inner.get(id)

    def find(self, **equals: Any) -> list[Document]:
        equals = plain_query(equals)
        field = next((field for field in INDEXED_FIELDS if field in equals), None)
        if field is None:
            return self._inner.find(**equals)
        index = self._owner.indexes(self._name)[field]
        ids = index.ids.get(_key(equals[field]), [])
        found = (self._inner.get(id) for id in list(ids))
        return [
            document
            for document in found
            if document is not None
            and all(
                is_exactly(document.get(name), wanted, type(wanted))
                for name, wanted in equals.items()
            )
        ]

    def first(self, **equals: Any) -> Document | None:
        found = self.find(**equals)
        return found[0] if found else None

    def count(self, **equals: Any) -> int:
        if not any(field in equals for field in INDEXED_FIELDS):
            return self._inner.count(**equals)
        return len(self.find(**equals))

    def all(self) -> Iterator[Document]:
        return self._inner.all()

    # Changes (write transactions only) ----------------------------------------------------

    def insert(self, document: Mapping[str, Any]) -> Document:
        stored = self._inner.insert(document)
        for index in self._owner.built(self._name):
            index.add(stored)
        self._owner.inserted.append((self._name, stored))
        return stored

    def update(self, id: str, changes: Mapping[str, Any]) -> Document:
        updated = self._inner.update(id, changes)
        if any(field in changes for field in INDEXED_FIELDS):
            self._owner.forget(self._name)  # never done by billing; rebuilt when asked again
        self._owner.updated.append((self._name, id, dict(changes)))
        return updated

    def delete(self, id: str) -> None:
        self._inner.delete(id)
        for index in self._owner.built(self._name):
            index.remove(id)


class Indexes:
    """Indexes by collection, kept across the transactions of one run."""

    def __init__(self) -> None:
        self.by_collection: dict[str, dict[str, _Index]] = {}

    def clear(self) -> None:
        self.by_collection.clear()


class IndexedTransaction:
    """A :class:`~app.store.base.WriteTransaction` (or read one) with indexed look-ups.

    Every change must go through the wrapper, not the wrapped transaction, or
    the indexes go stale.
    """

    def __init__(
        self, inner: ReadTransaction | WriteTransaction, indexes: Indexes | None = None
    ) -> None:
        self.inner: Any = inner
        self.merchant = inner.merchant
        self._indexes = indexes or Indexes()
        self._checked: set[str] = set()  # collections whose index matches this transaction
        self.inserted: list[tuple[str, Document]] = []
        self.updated: list[tuple[str, str, dict[str, Any]]] = []

    def collection(self, name: str) -> Collection:
        return _IndexedCollection(self, name)

    def next_number(self, sequence: str) -> int:
        return self.inner.next_number(sequence)

    def indexes(self, collection: str) -> dict[str, _Index]:
        """The collection's indexes by field, (re)built in one pass when they are not
        known to match this transaction's data."""
        indexes = self._indexes.by_collection.get(collection)
        if collection not in self._checked:
            size = len(indexes[INDEXED_FIELDS[0]].value_of) if indexes else -1
            if size != self.inner.collection(collection).count():
                indexes = None
            self._checked.add(collection)
        if indexes is None:
            indexes = {field: _Index(field) for field in INDEXED_FIELDS}
            for document in self.inner.collection(collection).all():
                for index in indexes.values():
                    index.add(document)
            self._indexes.by_collection[collection] = indexes
        return indexes

    def built(self, collection: str) -> list[_Index]:
        return list(self._indexes.by_collection.get(collection, {}).values())

    def forget(self, collection: str) -> None:
        self._indexes.by_collection.pop(collection, None)
