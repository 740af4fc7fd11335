"""The store interface every service talks to.

A store keeps JSON documents in named collections, one set of collections per
merchant: nothing can reach across merchants because every transaction is
opened for exactly one merchant. Services see only this module's protocols,
so the TinyDB store (one file per merchant) and a PostgreSQL store (rows
scoped by merchant) are interchangeable.

Rules every implementation keeps:
- ``store.write(merchant)`` is all-or-nothing and serialised per merchant: an
  exception inside the block leaves the data as it was; leaving the block
  normally makes every change durable before control returns.
- ``store.read(merchant)`` sees one consistent snapshot and may run in
  parallel with writers.
- Documents are plain JSON values (``str``, ``int``, ``bool``, ``None``,
  lists, dicts). Every document has a string ``"id"``, unique in its
  collection. Money is an ``int`` of minor units; times are ISO 8601 UTC text.
- ``next_number(sequence)`` is gapless: a number is used only if its write
  transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

Document = dict[str, Any]

COLLECTIONS = frozenset(
    {
        "customers",  # one per sign-up; "number" is the customer number (C-000123)
        "subscriptions",
        "consents",  # one per consent given at sign-up: its text as shown, language, time
        "signups",  # idempotency: one per rendered order form that was accepted
        "invoices",
        "ledger",  # account entries: invoices, payments, credits, refunds
        "payments",  # payment attempts
        "payment_methods",  # gateway tokens, brand, last four; masked IBANs with mandates
        "signin_tokens",  # hashes only
        "sessions",  # server-side portal sessions
        "access_rules",  # portal access grants by domain or email
        "audit",  # who changed what, before and after
        "provider_events",  # payment providers' webhook events (Stripe), each applied once
        "bank_entries",  # bank statement lines imported, each once; unmatched ones kept
        "outbox",  # events waiting for webhook delivery
        "webhook_deliveries",  # one per event and subscribed endpoint: attempts, status, error
        "feedback",
        "metrics",  # page views and funnel counters
    }
)


class StoreError(Exception):
    """Base of the store's own errors."""


class UnknownCollection(StoreError):
    pass


class DuplicateId(StoreError):
    pass


class NotFound(StoreError):
    pass


class LockTimeout(StoreError):
    """Another transaction held a merchant's write lock for too long."""


class ReadCollection(Protocol):
    def get(self, id: str) -> Document | None:
        """The document with this id, or ``None``."""

    def find(self, **equals: Any) -> list[Document]:
        """Documents whose top-level fields equal every given value, oldest first."""

    def first(self, **equals: Any) -> Document | None:
        """The oldest document matching, or ``None``."""

    def count(self, **equals: Any) -> int: ...

    def all(self) -> Iterator[Document]:
        """Every document, oldest first."""


class Collection(ReadCollection, Protocol):
    def insert(self, document: Mapping[str, Any]) -> Document:
        """Add a document; its ``id`` must be new (else :class:`DuplicateId`)."""

    def update(self, id: str, changes: Mapping[str, Any]) -> Document:
        """Set top-level fields of an existing document (else :class:`NotFound`)."""

    def delete(self, id: str) -> None:
        """Remove a document (else :class:`NotFound`)."""


class ReadTransaction(Protocol):
    merchant: str

    def collection(self, name: str) -> ReadCollection: ...


class WriteTransaction(Protocol):
    merchant: str

    def collection(self, name: str) -> Collection: ...

    def next_number(self, sequence: str) -> int:
        """The next number of a gapless per-merchant sequence, starting at 1."""


class Store(Protocol):
    def read(self, merchant: str) -> AbstractContextManager[ReadTransaction]: ...

    def write(self, merchant: str) -> AbstractContextManager[WriteTransaction]: ...

    def merchants(self) -> list[str]:
        """Slugs of the merchants that have stored data."""

    def backup(self, merchant: str, destination: Path) -> None:
        """A consistent copy of one merchant's data, taken while no write runs."""

    def restore(self, merchant: str, source: Path) -> None:
        """Replace one merchant's data with a backup, atomically."""
